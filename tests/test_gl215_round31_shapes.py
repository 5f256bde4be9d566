"""GL215 shapes from held-out round 31 (real code, ``bench/heldout/round31``):

- a Lightning InfoGAN script that gets ``nn`` only through ``from model import *`` (the
  model module imports ``torch.nn as nn``): its ``nn.CrossEntropyLoss()`` is torch's, and
  it is fed element 0 of the Q network's tuple, a ``torch.softmax``;
- an ACGAN trainer class whose discriminator is built by ``ResNet18()``, a module-level
  function returning ``ResNet(BasicBlock, [2, 2, 2, 2])``, whose forward returns
  ``(sigmoid, softmax)``, the softmax fed to ``NLLLoss``.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

Q_MODEL = """\
import torch.nn as nn
import torch


class Qrator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1024, 14)

    def forward(self, x):
        c = self.fc(x)
        c_discrete = torch.softmax(c[:, :10], dim=-1)
        return c_discrete, c[:, 10:12], c[:, 12:14].exp()
"""

LIGHTNING = """\
import pytorch_lightning as pl
from model import *


class GAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.Q = Qrator()
        self.ce_loss = nn.CrossEntropyLoss()

    def training_step(self, batch, batch_idx):
        features, label = batch
        c_discrete_out, mu, var = self.Q(features)
        return self.ce_loss(c_discrete_out, label)
"""


def test_nn_brought_by_a_star_import_of_a_project_module(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": Q_MODEL, "train.py": LIGHTNING})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 14)
    assert "element 0 of the tuple Qrator's forward returns (model.py:12)" in finding.message


def test_a_star_import_of_a_module_without_torch_brings_no_nn(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": "class nn:\n    class CrossEntropyLoss:\n        pass\n",
                             "train.py": LIGHTNING.replace("self.Q = Qrator()", "self.Q = None")})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []


ACGAN = """\
import torch
import torch.nn as nn


class ResNet(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.linear = nn.Linear(512, 10)
        self.linear_re = nn.Linear(512, 1)
        self.softmax = nn.Softmax(dim=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        classes = self.softmax(self.linear(x))
        real = self.sigmoid(self.linear_re(x)).view(-1)
        return real, classes


def ResNet18():
    return ResNet([2, 2, 2, 2])


class ACGAN:
    def __init__(self):
        self.discriminator = ResNet18()

    def train(self, loader, epochs):
        aux_criterion = nn.NLLLoss()
        optimizer = torch.optim.Adam(self.discriminator.parameters())
        for epoch in range(epochs):
            for images, labels in loader:
                optimizer.zero_grad()
                dis_out, aux_out = self.discriminator(images)
                aux_criterion(aux_out, labels).backward()
                optimizer.step()
"""


def test_a_function_returning_an_instance_of_a_class_ending_in_softmax(tmp_path: Path) -> None:
    write_project(tmp_path, {"acgan.py": ACGAN})
    [finding] = lint_in_process(tmp_path / "acgan.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 34)
    assert "element 1 of the tuple ResNet's forward returns (line 10; `ResNet18` can build a ResNet)" in finding.message
    assert "NLLLoss" in finding.message
