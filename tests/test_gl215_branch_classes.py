"""GL215: one attribute bound to two discriminator classes in the arms of one choice, a
shape left open from held-out round 41/b (murumura, in our own words). A GAN trainer keeps
``self.NetD``, a plain discriminator ending in a sigmoid when ``self.name == 'cgan'`` and
an InfoGAN discriminator returning ``(validity, label, code)`` with ``label`` a softmax
otherwise; the InfoGAN arm unpacks the triple and feeds ``label`` to the
``CrossEntropyLoss`` the discriminator class keeps."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

PLAIN = """\
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
        self.loss = nn.BCELoss()

    def forward(self, x):
        return self.net(x)
"""

INFO = """\
import torch.nn as nn
import torch.nn.functional as F


class Discriminator(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.adv = nn.Linear(8, 1)
        self.cls = nn.Linear(8, classes)
        self.code = nn.Linear(8, 2)
        self.class_loss = nn.CrossEntropyLoss()

    def forward(self, x):
        validity = self.adv(x)
        label = {label}
        return validity, label, self.code(x)
"""

TRAIN = """\
import torch

from cgan import Discriminator
from infogan import Discriminator as InfoD


class Trainer:
    def __init__(self, name):
        self.name = name
        if self.name == 'cgan':
            self.NetD = Discriminator()
        elif self.name == 'infogan':
            self.NetD = InfoD()
        self.optim = torch.optim.Adam(self.NetD.parameters())

    def train(self, loader):
        for x, y in loader:
            if self.name == 'infogan':
                _, label, code = self.NetD(x)
                loss = self.NetD.class_loss(label, y)
                loss.backward()
                self.optim.step()
"""


def _lint(tmp_path: Path, label: str) -> list:
    write_project(tmp_path, {"cgan.py": PLAIN, "infogan.py": INFO.format(label=label), "train.py": TRAIN})
    return lint_in_process(tmp_path / "train.py", "GL215")


def test_the_softmax_label_of_one_arm_is_reported(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "F.softmax(self.cls(x), dim=1)")
    assert finding.line == 20
    assert "element 1 of the tuple" in finding.message and "when `self.NetD` is the InfoD of line 13" in finding.message


def test_logits_in_that_arm_are_not(tmp_path: Path) -> None:
    assert _lint(tmp_path, "self.cls(x)") == []
