"""GL406 shapes from held-out round 34 (real code, ``bench/heldout/round34``):

- a freeze under a constant switch of the script (``WEIGHTS_FREEZING = False`` at the top
  of ``main``, then ``if WEIGHTS_FREEZING:``) never runs; with the switch on, it does;
- a model class picked from a table of classes and built in the same call, under a test
  naming the key (``if args.model in ["resnet50"]: model = model_map[args.model](...)``),
  whose ``__init__`` freezes its backbone when ``pretrained`` (round 34/a, alperendemirciai).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

SWITCHED = """\
import torch
import torch.nn as nn
from torchvision.models import resnet18

{module_switch}

def main(loader):
    {switch}
    model = resnet18(weights=None)
    if WEIGHTS_FREEZING:
        for param in model.parameters():
            param.requires_grad = False
    model.fc = nn.Linear(512, 10)
    optimizer = torch.optim.Adam(model.parameters())
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


@pytest.mark.parametrize(("module_switch", "switch"), [
    ("", "WEIGHTS_FREEZING = False  # weight freezing"),
    ("WEIGHTS_FREEZING = False", "pass"),  # a module constant
])
def test_a_freeze_under_a_constant_switch_that_is_off(tmp_path: Path, module_switch: str, switch: str) -> None:
    write_project(tmp_path, {"train.py": SWITCHED.format(module_switch=module_switch, switch=switch)})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


@pytest.mark.parametrize(("module_switch", "switch"), [
    ("", "WEIGHTS_FREEZING = True"),
    ("WEIGHTS_FREEZING = False", "global WEIGHTS_FREEZING\n    WEIGHTS_FREEZING = True"),  # set again in main
    ("WEIGHTS_FREEZING = False\nif __name__ == '__main__':\n    WEIGHTS_FREEZING = True", "pass"),  # bound twice
])
def test_a_freeze_under_a_switch_that_is_on_or_unknown(tmp_path: Path, module_switch: str, switch: str) -> None:
    write_project(tmp_path, {"train.py": SWITCHED.format(module_switch=module_switch, switch=switch)})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.code == "GL406" and "`model` has BatchNorm layers" in finding.message


RESNET_MODEL = """\
import torch.nn as nn
from torchvision import models


class ResNet50Model(nn.Module):
    def __init__(self, num_classes, pretrained=True):
        super().__init__()
        self.resnet50 = models.resnet50(weights=None)
        if pretrained:
            for param in self.resnet50.parameters():
                param.requires_grad = False
        self.resnet50.fc = nn.Linear(self.resnet50.fc.in_features, num_classes)

    def forward(self, x):
        return self.resnet50(x)
"""

VGG_MODEL = """\
import torch.nn as nn
from torchvision import models


class VGGModel(nn.Module):
    def __init__(self, num_classes, pretrained=True):
        super().__init__()
        self.vgg = models.vgg16(weights=None)
        self.vgg.classifier[6] = nn.Linear(4096, num_classes)

    def forward(self, x):
        return self.vgg(x)
"""

TABLE_SCRIPT = """\
import argparse

import torch
import torch.nn as nn
from models.resnet50 import ResNet50Model
from models.vgg import VGGModel


def train_epoch(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def main(loader):
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet50")
    args = parser.parse_args()
    model_map = {{"resnet50": ResNet50Model, "vgg16": VGGModel}}
    if args.model in [{key!r}]:
        model = model_map[args.model](num_classes=5, pretrained={pretrained})
        optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(3):
        train_epoch(model, loader, optimizer)
"""


def _table_project(tmp_path: Path, key: str, pretrained: str) -> Path:
    write_project(tmp_path, {"models/__init__.py": "", "models/resnet50.py": RESNET_MODEL, "models/vgg.py": VGG_MODEL,
                             "scripts/train.py": TABLE_SCRIPT.format(key=key, pretrained=pretrained)})
    return tmp_path / "scripts" / "train.py"


def test_a_freezing_class_picked_from_a_table_by_the_branch_s_key(tmp_path: Path) -> None:
    [finding] = lint_in_process(_table_project(tmp_path, "resnet50", "True"), "GL406")
    assert finding.code == "GL406" and finding.line == 23
    assert "`model.resnet50` has BatchNorm layers and `ResNet50Model`" in finding.message
    assert "`model.train()` on line 10" in finding.message


@pytest.mark.parametrize(("key", "pretrained"), [
    ("vgg16", "True"),  # the branch picks the VGG, which freezes nothing
    ("resnet50", "False"),  # built without the freeze
])
def test_a_table_pick_that_builds_nothing_frozen(tmp_path: Path, key: str, pretrained: str) -> None:
    assert lint_in_process(_table_project(tmp_path, key, pretrained), "GL406") == []

