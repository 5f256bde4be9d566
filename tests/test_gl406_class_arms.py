"""GL406 on a model a class's method builds in ``if``/``elif`` arms and keeps as an attribute
(round 38/a, KaanRF: ``ModelHelper.create_model``). The method freezes ``self._model`` and
gives it a new ``classifier``; a ResNet-50 never calls a ``classifier`` (its head is
``fc``), so with everything else frozen its loss has no gradient and ``backward()`` fails
on the first batch: that arm never trains. An arm whose architecture does call the new
head (DenseNet-121) is a finding."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

HELPER = """\
import torch
from torch import nn
from torchvision import models


class ModelHelper:
    def __init__(self, arch, hidden_units):
        self._model = None
        self.arch = arch
        self.create_model(arch, hidden_units)

    def create_model(self, arch, hidden_units):
        self._model = None
        if arch == "vgg19":
            self._model = models.vgg19(weights=None)
            in_features = 25088
        elif arch == "{second}":
            self._model = models.{second}(weights=None)
            in_features = {features}
        for param in self._model.parameters():
            param.requires_grad = False
        self._model.classifier = nn.Sequential(nn.Linear(in_features, hidden_units), nn.ReLU(),
                                               nn.Linear(hidden_units, 102), nn.LogSoftmax(dim=1))

    def train_model(self, loader, epochs):
        optimizer = torch.optim.Adam(self._model.classifier.parameters(), lr=0.003)
        criterion = nn.NLLLoss()
        for epoch in range(epochs):
            for inputs, labels in loader:
                optimizer.zero_grad()
                loss = criterion(self._model(inputs), labels)
                loss.backward()
                optimizer.step()
            self._model.eval()
            self._model.train()
"""


def _lint(tmp_path: Path, second: str, features: int) -> list:
    write_project(tmp_path, {"model_helper.py": HELPER.format(second=second, features=features)})
    return lint_in_process(tmp_path / "model_helper.py", "GL406")


def test_a_resnet_arm_given_a_classifier_it_never_calls_never_trains(tmp_path: Path) -> None:
    assert _lint(tmp_path, "resnet50", 2048) == []


def test_a_densenet_arm_given_the_classifier_it_calls_is_reported(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "densenet121", 1024)
    assert finding.line == 10 and "`self._model` has BatchNorm layers" in finding.message
    assert "`ModelHelper.create_model` (line 20)" in finding.message


PLAIN = """\
import torch
from torch import nn
from torchvision import models

model = models.{arch}(weights=None)
for param in model.parameters():
    param.requires_grad = False
model.{head} = nn.Linear({features}, 10)
optimizer = torch.optim.SGD(model.{head}.parameters(), lr=0.01)
model.train()
for x, y in []:
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
"""


def test_a_frozen_resnet_given_only_a_classifier_never_trains(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": PLAIN.format(arch="resnet18", head="classifier", features=512)})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_frozen_resnet_given_a_new_fc_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": PLAIN.format(arch="resnet18", head="fc", features=512)})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 7 and "`model` has BatchNorm layers" in finding.message
