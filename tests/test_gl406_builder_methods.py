"""GL406 for a freezing method reached through a builder of another module: held-out round
77/a's detector (``model = get_model(args)`` from ``core/helper.py``, which wraps the class of
``net/detector.py`` in DataParallel; ``model.module.freeze_backbone()`` for the epochs an
options module's ``--freeze_epochs`` counts, default 50). The case is our own."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

BACKBONE = """\
import torch.nn as nn


class Trunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn(self.conv(x))


def trunk():
    return Trunk()
"""

DETECTOR = """\
import torch.nn as nn
from net.trunk import trunk


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = trunk()
        self.head = nn.Conv2d(8, 4, 1)

    def freeze_backbone(self):
        for param in self.backbone.parameters():
            param.requires_grad = False

    def unfreeze_backbone(self):
        for param in self.backbone.parameters():
            param.requires_grad = True

    def forward(self, x):
        return self.head(self.backbone(x))
"""

HELPER = """\
import torch.nn as nn
from net.detector import Detector


def get_model(args):
    model = Detector()
    model = nn.DataParallel(model)
    return model
"""

OPTIONS = """\
import argparse
from core.helper import get_model

parser = argparse.ArgumentParser()
parser.add_argument("--freeze_epochs", type=int, default={frozen})
parser.add_argument("--unfreeze_epochs", type=int, default=100)
args = parser.parse_args()
"""

TRAIN = """\
import torch
from options import args
from core.helper import get_model


def train_one_epoch(model, loader, optimizer):
    model.train()
    for images, targets in loader:
        loss = (model(images) - targets).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    model = get_model(args)
    optimizer = torch.optim.AdamW(model.parameters(), 1e-3)
    model.module.freeze_backbone()
    for epoch in range(args.freeze_epochs):
        train_one_epoch(model, [], optimizer)
    model.module.unfreeze_backbone()
    for epoch in range(args.unfreeze_epochs):
        train_one_epoch(model, [], optimizer)
"""


def _project(tmp_path: Path, frozen: int) -> Path:
    write_project(tmp_path, {
        "net/__init__.py": "", "net/trunk.py": BACKBONE, "net/detector.py": DETECTOR,
        "core/__init__.py": "", "core/helper.py": HELPER,
        "tools/options.py": OPTIONS.format(frozen=frozen), "tools/train.py": TRAIN,
    })
    return tmp_path / "tools" / "train.py"


def test_a_method_of_a_class_another_modules_builder_returns_freezes_for_a_long_first_phase(tmp_path: Path) -> None:
    [finding] = lint_in_process(_project(tmp_path, 50), "GL406")
    assert (finding.code, finding.line) == ("GL406", 18)
    assert finding.message.startswith("`model.module.backbone` has BatchNorm layers and `Detector.freeze_backbone` "
                                      "(../net/detector.py:12) freezes its parameters here for the epochs before "
                                      "line 21 makes it trainable again")
    assert "call `model.module.backbone.eval()` after each `model.train()`" in finding.message


def test_a_short_warm_up_counted_by_the_options_module_is_not_reported(tmp_path: Path) -> None:
    assert lint_in_process(_project(tmp_path, 3), "GL406") == []
