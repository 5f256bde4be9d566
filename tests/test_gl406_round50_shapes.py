"""GL406 on held-out round 50 (``bench/heldout/round50``: course assignments freezing a VGG
encoder by strategy, a multiple-instance-learning script), in our own words:

- ``if not args.freeze_resnet: extractor.train() else: extractor.eval()``: the two arms of one
  ``if`` on the freezing flag choose the mode; the frozen configuration runs in eval mode;
- ``if strategy == "frozen": <freeze encoder> elif strategy == "partial": <freeze encoder,
  reopen block4 and block5>``: the reopened blocks belong to the other arm, and the frozen arm
  is reported without them;
- a copy of the model kept as a distillation target (``copy.deepcopy(self)``) and run with
  ``prev.forward(x)`` is read in ``test_gl406_round47_misses.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

EXTRACTOR = """\
import argparse

import torch
import torch.nn as nn
from torchvision import models


class Extractor(nn.Module):
    def __init__(self, freeze=False):
        super().__init__()
        self.features = nn.Sequential(*list(models.resnet18(weights=None).children())[:-1])
        if freeze:
            for p in self.features.parameters():
                p.requires_grad = False

    def forward(self, x):
        return self.features(x).flatten(1)


def train_one_epoch(head, extractor, loader, optimizer, args):
    head.train()
    if not args.freeze_resnet:
        extractor.train()
    else:
        extractor.eval()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(head(extractor(x)), y).backward()
        optimizer.step()


parser = argparse.ArgumentParser()
parser.add_argument("--freeze_resnet", action="store_true")
args = parser.parse_args()
extractor = Extractor(freeze=args.freeze_resnet)
head = nn.Linear(512, 2)
optimizer = torch.optim.Adam([p for p in [*extractor.parameters(), *head.parameters()] if p.requires_grad])
for epoch in range(20):
    train_one_epoch(head, extractor, [], optimizer, args)
"""


def test_a_mode_chosen_by_the_freezing_flag_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"mil.py": EXTRACTOR})
    assert lint_in_process(tmp_path / "mil.py", "GL406") == []


def test_a_train_call_under_another_flag_is_reported(tmp_path: Path) -> None:
    source = EXTRACTOR.replace("    if not args.freeze_resnet:\n        extractor.train()\n    else:\n        extractor.eval()\n",
                               "    if not args.quiet:\n        extractor.train()\n    else:\n        extractor.eval()\n")
    write_project(tmp_path, {"mil.py": source.replace('parser.add_argument("--freeze_resnet", action="store_true")',
                                                      'parser.add_argument("--freeze_resnet", action="store_true")\n'
                                                      'parser.add_argument("--quiet", action="store_true")')})
    [finding] = lint_in_process(tmp_path / "mil.py", "GL406")
    assert finding.code == "GL406"
    assert "`extractor.train()` on line 23" in finding.message


STRATEGIES = """\
import torch
import torch.nn as nn


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1, self.block2, self.block3 = block(3, 16), block(16, 32), block(32, 64)
        self.block4, self.block5 = block(64, 64), block(64, 64)

    def forward(self, x):
        return self.block5(self.block4(self.block3(self.block2(self.block1(x)))))


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Conv2d(64, 3, 1)

    def forward(self, x):
        return self.head(self.encoder(x))


def train_unet(strategy, loader):
    model = UNet()
    if strategy == "frozen":
        for p in model.encoder.parameters():
            p.requires_grad = False
    elif strategy == "partial":
        for p in model.encoder.parameters():
            p.requires_grad = False
        for p in model.encoder.block5.parameters():
            p.requires_grad = True
        for p in model.encoder.block4.parameters():
            p.requires_grad = True
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
    for epoch in range(20):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


def test_parts_reopened_in_another_arm_leave_the_frozen_arm_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": STRATEGIES})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 33)
    assert finding.message.startswith("`model.encoder` has BatchNorm layers and its parameters are frozen here, "
                                      "but `model.train()` on line 43 puts it back in train mode")


WARM_UP = """\
import torch
import torch.nn as nn
from torchvision import models

FREEZE_EPOCHS = {epochs}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = models.resnet18(weights=None)
        self.backbone.fc = nn.Identity()
        self.head = nn.Linear(512, 7)

    def forward(self, x):
        return self.head(self.backbone(x))


model = Net()
optimizer = torch.optim.Adam(model.parameters())
for epoch in range(30):
    if epoch < FREEZE_EPOCHS:
        for param in model.backbone.parameters():
            param.requires_grad = False
    else:
        for param in model.backbone.parameters():
            param.requires_grad = True
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_short_warm_up_in_the_arms_of_an_if_in_the_epoch_loop_is_quiet(tmp_path: Path) -> None:
    # (round 50/b, muhammadhaider02: both arms run, one epoch after another; a look-alike row)
    write_project(tmp_path, {"train.py": WARM_UP.format(epochs=5)})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


# round 50/a (abinashagasti, a false finding): a factory freezes all but the last k parameters
# only when asked to, ``if k != 1:`` with k=1 by default
K_FACTORY = """\
import torch.nn as nn
from torchvision import models


def pretrained_model(num_classes=10, k=1):
    model = models.resnet50(weights=None)
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    if k != 1:
        for param in model.parameters():
            param.requires_grad = False
        for name, param in list(model.named_parameters())[-k:]:
            param.requires_grad = True
    return model
"""

K_SCRIPT = """\
import torch
from factory import pretrained_model


def fit(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


model = pretrained_model({arguments})
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
fit(model, [], optimizer)
"""


@pytest.mark.parametrize("arguments, reported", [
    ("num_classes=10", False),  # k left at its default: nothing is frozen
    ("10, 1", False),
    ("10, k=4", True),
    ("10, k=args_k", True),  # a value not written here: the freeze may run
])
def test_a_factory_freezing_under_a_numeric_test_of_a_parameter(tmp_path: Path, arguments: str, reported: bool) -> None:
    write_project(tmp_path, {"factory.py": K_FACTORY, "train.py": K_SCRIPT.format(arguments=arguments)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == ([("GL406", 13)] if reported else [])
