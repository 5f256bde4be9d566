"""GL406 for models the file does not build by name: held-out round 77/a's detector (``model =
get_model(args)`` from ``core/helper.py``, which wraps the class of ``net/detector.py`` in
DataParallel; ``model.module.freeze_backbone()`` for the epochs an options module's
``--freeze_epochs`` counts, default 50), and round 77/b's VQA pre-training, whose model class is
a parameter of the training function (``pretrain(VQAModel, ...)``). The cases are our own."""

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


WRAPPED_HELPER = """\
import torch.nn as nn
from net.detector import Detector


def get_model(args):
    net = Detector()
    return nn.DataParallel(net)
"""


def _project(tmp_path: Path, frozen: int, helper: str = HELPER) -> Path:
    write_project(tmp_path, {
        "net/__init__.py": "", "net/trunk.py": BACKBONE, "net/detector.py": DETECTOR,
        "core/__init__.py": "", "core/helper.py": helper,
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


def test_a_builder_returning_the_wrapped_name_it_built_is_read_too(tmp_path: Path) -> None:
    [finding] = lint_in_process(_project(tmp_path, 50, WRAPPED_HELPER), "GL406")
    assert (finding.code, finding.line) == ("GL406", 18)
    assert "`Detector.freeze_backbone` (../net/detector.py:12) freezes its parameters here" in finding.message


def test_a_short_warm_up_counted_by_the_options_module_is_not_reported(tmp_path: Path) -> None:
    assert lint_in_process(_project(tmp_path, 3), "GL406") == []


VQA = """\
import torch
import torch.nn as nn
import torchvision


class Answerer(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        resnet = torchvision.models.resnet50(weights="IMAGENET1K_V1")
        self.img_encoder = nn.Sequential(*list(resnet.children())[:-1])
        self.head = nn.Linear(2048, vocab_size)

    def forward(self, x):
        return self.head(self.img_encoder(x).flatten(1))


def pretrain(model_class, loader, epochs=10):
    model = model_class(vocab_size=100)
    for p in model.img_encoder.parameters():
        p.requires_grad = False
    optimizer = torch.optim.AdamW(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        for images, answers in loader:
            loss = nn.functional.cross_entropy(model(images), answers)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


pretrain({passed}, [])
"""


def test_a_model_class_handed_to_the_training_function_is_read_where_it_is_built(tmp_path: Path) -> None:
    write_project(tmp_path, {"pretrain.py": VQA.format(passed="Answerer")})
    [finding] = lint_in_process(tmp_path / "pretrain.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 20)
    assert finding.message.startswith("`model.img_encoder` has BatchNorm layers and its parameters are frozen here, "
                                      "but `model.train()` on line 23 puts it back in train mode")


def test_a_class_without_batchnorm_handed_to_the_training_function_is_not_reported(tmp_path: Path) -> None:
    plain = VQA.format(passed="Plain").replace("def pretrain", "class Plain(nn.Module):\n    def __init__(self, vocab_size):\n"
                                              "        super().__init__()\n        self.img_encoder = nn.Linear(4, 4)\n\n\n"
                                              "def pretrain")
    write_project(tmp_path, {"pretrain.py": plain})
    assert lint_in_process(tmp_path / "pretrain.py", "GL406") == []


DETECTOR_STAGES = """\
import torch
import torchvision


class TwoStage(torch.nn.Module):
    def __init__(self, backbone, num_classes):
        super().__init__()
        self.backbone = backbone
        self.head = torch.nn.Conv2d(1280, num_classes, 1)


def train_one_epoch(model, optimizer, loader):
    model.train()
    for images, targets in loader:
        loss = model(images).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def main():
    model = TwoStage(torchvision.models.mobilenet_v2().features, num_classes=21)
    for param in model.backbone.parameters():
        param.requires_grad = False
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.005)
    for epoch in range(5):
        train_one_epoch(model, optimizer, [])
    for name, parameter in model.backbone.named_parameters():
        split_name = name.split(".")[0]
        if split_name in {kept}:
            parameter.requires_grad = False
        else:
            parameter.requires_grad = True
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.005)
    for epoch in range(20):
        train_one_epoch(model, optimizer, [])
"""


def test_the_first_blocks_of_a_features_backbone_kept_frozen_for_the_second_stage_are_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": DETECTOR_STAGES.format(kept='["0", "1", "2", "3"]')})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 31)
    assert finding.message.startswith("`model.backbone` has BatchNorm layers and the parameters of its `0`, `1`, `2`, "
                                      "`3` are frozen here, but `model.train()` on line 13 puts it back in train mode")


def test_a_second_stage_that_freezes_no_block_ends_the_warm_up(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": DETECTOR_STAGES.format(kept="[]")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
