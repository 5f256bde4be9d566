"""GL215 on held-out round 56 (``bench/heldout/round56/a``), in our own words: a capsule
network whose ``loss`` method picks a margin loss, or a cross-entropy helper that softmaxes
the capsule lengths before ``CrossEntropyLoss``, by a parameter. With the parameter off by
default and no call turning it on, the helper never trains the model (a look-alike); with it
on by default, it does (the row)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

CAPSULES = """\
import torch
import torch.nn as nn


class CapsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.caps = nn.Linear(64, 40)
        self.ce_loss = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.caps(x).view(-1, 10, 4)

    def loss(self, x, target, use_ce={default}):
        return self.margin_loss(x, target) if not use_ce else self.cross_entropy_loss(x, target)

    def cross_entropy_loss(self, x, labels):
        lengths = torch.sqrt((x ** 2).sum(dim=2))
        return self.ce_loss(torch.nn.Softmax(-1)(lengths), labels)

    def margin_loss(self, x, labels):
        lengths = torch.sqrt((x ** 2).sum(dim=2))
        return (torch.relu(0.9 - lengths) ** 2).mean()


model = CapsNet()
opt = torch.optim.Adam(model.parameters())
for x, y in []:
    loss = model.loss(model(x), y{passed})
    opt.zero_grad()
    loss.backward()
    opt.step()
"""


@pytest.mark.parametrize(("default", "passed", "lines"), [
    ("False", "", []),  # off by default, never turned on: the helper never runs
    ("True", "", [19]),  # on by default
    ("False", ", use_ce=True", [19]),  # turned on by the call
])
def test_a_softmaxing_loss_helper_behind_a_switch_is_reported_only_when_it_runs(
        tmp_path: Path, default: str, passed: str, lines: list[int]) -> None:
    write_project(tmp_path, {"caps.py": CAPSULES.replace("{default}", default).replace("{passed}", passed)})
    findings = lint_in_process(tmp_path / "caps.py", "GL215")
    assert [(f.code, f.line) for f in findings] == [("GL215", line) for line in lines]
