"""GL406 (static) on the held-out fine-tuning scripts of tests/data/heldout_gl406/, written
before the rule (first line: ``# expect: GL406 <line>`` or ``# expect: none``), and its fix:
the fixed script parses, is not reported again, and keeps the frozen part in eval mode
after ``model.train()`` (run on the CPU)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gradlint.config import Settings
from gradlint.fix.apply import fix_text
from gradlint.runner import active_rules, lint_file

HELDOUT = Path(__file__).resolve().parent / "data" / "heldout_gl406"
_EXPECT = re.compile(r"# expect: (?:GL406 (\d+)|none)")


def _lint(path: Path) -> list:
    settings = Settings(select=["GL406"], root=path.parent)
    return lint_file(path, str(path), active_rules(settings), settings)


def _expected(path: Path) -> set[int]:
    match = _EXPECT.match(path.read_text().splitlines()[0])
    assert match, path
    return {int(match.group(1))} if match.group(1) else set()


def test_heldout_scripts_precision_and_recall():
    scripts = sorted(HELDOUT.glob("*.py"))
    assert len(scripts) >= 10
    wrong = {p.name: (sorted(_expected(p)), sorted(f.line for f in _lint(p)))
             for p in scripts if {f.line for f in _lint(p)} != _expected(p)}
    assert wrong == {}
    assert sum(1 for p in scripts if _expected(p)) >= 5 and sum(1 for p in scripts if not _expected(p)) >= 5


@pytest.mark.parametrize("name, part", [
    ("finetune_resnet_frozen_backbone.py",
     "`model.backbone` has BatchNorm layers and its parameters are frozen here, but `model.train()` on line 29"),
    ("no_grad_encoder_in_forward.py", "`model.encoder` has BatchNorm layers and it runs under torch.no_grad()"),
    ("only_head_in_optimizer.py", "only `model.classifier` is optimised here, so the rest never changes"),
    ("frozen_teacher_train_call.py", "`teacher.train()` on line 13"),
])
def test_heldout_messages(name, part):
    (finding,) = _lint(HELDOUT / name)
    assert finding.code == "GL406" and part in finding.message


def test_fix_keeps_the_frozen_backbone_in_eval_mode(tmp_path):
    torch = pytest.importorskip("torch")
    source = '''import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten())
        self.head = nn.LazyLinear(2)

    def forward(self, x):
        return self.head(self.backbone(x))


model = Net()
model.backbone.requires_grad_(False)
optimizer = torch.optim.SGD(model.head.parameters(), lr=0.1)


def train_epoch(batches):
    model.train()
    for x, y in batches:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return model.backbone[1].running_mean.clone()
'''
    path = tmp_path / "finetune.py"
    path.write_text(source)
    (finding,) = _lint(path)
    assert (finding.code, finding.line) == ("GL406", 16)
    fixed, count = fix_text(str(path), source, Settings(select=["GL406"], root=tmp_path))
    assert count == 1
    assert "    model.train()\n    model.backbone.eval()\n" in fixed
    ast.parse(fixed)
    path.write_text(fixed)
    assert _lint(path) == []

    def stats_after_an_epoch(text: str):
        namespace: dict = {}
        torch.manual_seed(0)
        exec(compile(text, "finetune.py", "exec"), namespace)
        batches = [(torch.randn(8, 3, 6, 6), torch.randint(0, 2, (8,)))]
        return namespace["train_epoch"](batches)

    assert stats_after_an_epoch(source).abs().sum() > 0  # the frozen BatchNorm moved
    assert torch.equal(stats_after_an_epoch(fixed), torch.zeros(4))  # it stays at its initial statistics
