"""GL406 for a ``train()`` override that keeps the BatchNorm in eval mode only where the
class does *not* freeze (held-out round 42, ``bench/heldout/round42/c``, a PANN transfer
class: ``if mode and not self.freeze_base: <BatchNorm eval>``), in our own words. Where the
class freezes its base, the override leaves the base's BatchNorm in train mode."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

NETS = """\
from torch import nn
from torchvision import models


class Transfer(nn.Module):
    def __init__(self, classes, freeze_base=True):
        super().__init__()
        self.freeze_base = freeze_base
        self.base = models.resnet18(weights="DEFAULT")
        self.base.fc = nn.Identity()
        self.head = nn.Linear(512, classes)
        if freeze_base:
            for p in self.base.parameters():
                p.requires_grad = False

    def forward(self, x):
        return self.head(self.base(x))

    def train(self, mode=True):
        super().train(mode)
        if {test}:
            for m in self.base.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self
"""

TRAIN = """\
import torch
from nets import Transfer

model = Transfer(10, freeze_base=True)
optimizer = torch.optim.Adam(model.head.parameters(), lr=1e-3)
for epoch in range(10):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_an_override_evaluating_only_the_unfrozen_base_keeps_nothing_in_eval(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": NETS.format(test="mode and not self.freeze_base"), "train.py": TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 4)
    assert "`model.base` has BatchNorm layers and `Transfer` (nets.py:13) returns it with its parameters frozen" \
        in finding.message


def test_an_override_evaluating_the_frozen_base_is_the_fix(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": NETS.format(test="mode and self.freeze_base"), "train.py": TRAIN})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
    write_project(tmp_path, {"nets.py": NETS.format(test="mode")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
