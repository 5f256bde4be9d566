"""GL406: a frozen backbone put into ``nn.Sequential(backbone, head)`` is the Sequential's
first module, and ``model.train()`` puts it back in train mode. Noticed while writing round
61's tests (a backbone class built by another module, then wrapped): the holder reading knew
project classes keeping what they are handed, not ``nn.Sequential``."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

SCRIPT = """\
    import torch
    import torch.nn as nn
    from torchvision import models

    backbone = models.{arch}(weights=None)
    for p in backbone.parameters():
        p.requires_grad = False
    model = nn.Sequential({members})
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    for epoch in range(10):
        model.train()
        {restore}
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


def _lint(tmp_path: Path, arch: str = "resnet18", members: str = "backbone, nn.Linear(1000, 10)",
          restore: str = "") -> list:
    write_project(tmp_path, {"train.py": SCRIPT.format(arch=arch, members=members, restore=restore)})
    return lint_in_process(tmp_path / "train.py", "GL406")


@pytest.mark.parametrize("members, held", [("backbone, nn.Linear(1000, 10)", "model[0]"),
                                           ("nn.Identity(), backbone, nn.Linear(1000, 10)", "model[1]")])
def test_a_frozen_backbone_inside_a_sequential(tmp_path: Path, members: str, held: str) -> None:
    findings = _lint(tmp_path, members=members)
    assert [(f.code, f.line) for f in findings] == [("GL406", 7)]
    assert f"`{held}` has BatchNorm layers" in findings[0].message
    assert "which `model` holds (line 8)" in findings[0].message
    assert findings[0].fix is not None and findings[0].fix.edits[0].content.strip() == f"{held}.eval()"


def test_the_sequential_member_put_back_in_eval_is_quiet(tmp_path: Path) -> None:
    assert _lint(tmp_path, restore="model[0].eval()") == []


def test_a_frozen_network_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    assert _lint(tmp_path, arch="vgg16") == []
