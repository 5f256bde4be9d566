"""GL406 shapes of held-out round 80 (``bench/heldout/round80``), in our own words: a
model's ``freeze_backbone()`` method that freezes only parameters still trainable
(``if parameter.requires_grad and "head" not in name:``)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODEL = """\
import torch.nn as nn


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.head = nn.Linear(64, 1)

    def forward(self, x):
        return self.head(self.layer1(self.bn1(self.conv1(x))).mean((2, 3)))

    def freeze_backbone(self):
        for name, parameter in self.named_parameters():
            if {test}:
                parameter.requires_grad = False
"""

TRAIN = """\
import torch
from model import SmallResNet

model = SmallResNet()
model.freeze_backbone()
optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
for epoch in range(40):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(x).squeeze(-1), y).backward()
        optimizer.step()
"""


def test_a_name_test_that_also_asks_requires_grad_is_read_as_the_name_test(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODEL.format(test='parameter.requires_grad and "head" not in name'),
                             "train.py": TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 5)
    assert finding.message.startswith("`model` has BatchNorm layers and `SmallResNet.freeze_backbone` (model.py:16) "
                                      "freezes its parameters here")


def test_a_test_freezing_only_the_head_is_not_a_backbone_freeze(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODEL.format(test='parameter.requires_grad and "head" in name'),
                             "train.py": TRAIN})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
