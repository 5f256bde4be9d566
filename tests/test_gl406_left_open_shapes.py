"""GL406 shapes of misses left open by earlier held-out rounds (real code, in our own words).

- Round 40/a (RobertRelyea): a transfer-learning tutorial picks its network by a module
  constant (``MODEL = 'densenet161'``) and builds its optimiser in an ``if MODEL ==
  'densenet161': ... else: ...`` choice, each arm optimising only that network's head. One
  arm's optimiser does not make the other arm's backbone trainable, and the arm the
  constant rules out never runs.
- Round 25/a (taihuan2023): a widely copied U-Net template whose ``freeze_backbone()``
  freezes ``self.vgg`` or ``self.resnet`` by ``if self.backbone == ...``, the attribute its
  constructor keeps; only the ResNet arm has BatchNorm, and each arm is read where the
  instance was built with that value."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

SCRIPT = """\
import torch.nn as nn
import torch.optim as optim
import torchvision

MODEL = {model!r}

if MODEL == 'resnet18':
    model_conv = torchvision.models.resnet18(pretrained=True)
else:
    model_conv = torchvision.models.densenet161(pretrained=True)

if MODEL == 'densenet161':
    model_conv.classifier = nn.Linear(2208, 5)
    optimizer = optim.SGD(model_conv.classifier.parameters(), lr=0.001)
else:
    model_conv.fc = nn.Linear(512, 5)
    optimizer = optim.SGD(model_conv.fc.parameters(), lr=0.001)


def train_model(model, criterion, optimizer, loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


train_model(model_conv, nn.CrossEntropyLoss(), optimizer, [])
"""


def _lint(tmp_path: Path, model: str) -> list:
    write_project(tmp_path, {"train.py": SCRIPT.format(model=model)})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_the_head_only_optimiser_of_the_chosen_arm_is_reported(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "densenet161")
    assert finding.line == 14 and "only `model_conv.classifier` is optimised" in finding.message


def test_the_other_constant_reports_the_other_arm(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "resnet18")
    assert finding.line == 17 and "only `model_conv.fc` is optimised" in finding.message


def test_a_constant_naming_neither_arm_keeps_the_else_arm(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "vgg16")
    assert finding.line == 17


VGG = """\
import torch.nn as nn


def VGG16(pretrained=False):
    return nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(inplace=True))
"""

UNET = """\
import torch.nn as nn
from torchvision.models import resnet50

from nets.vgg import VGG16


class Unet(nn.Module):
    def __init__(self, num_classes=21, backbone="vgg"):
        super().__init__()
        if backbone == "vgg":
            self.vgg = VGG16()
        elif backbone == "resnet50":
            self.resnet = resnet50()
        self.final = nn.Conv2d(64, num_classes, 1)
        self.backbone = backbone

    def forward(self, x):
        return self.final(self.vgg(x) if self.backbone == "vgg" else self.resnet(x))

    def freeze_backbone(self):
        if self.backbone == "vgg":
            for param in self.vgg.parameters():
                param.requires_grad = False
        elif self.backbone == "resnet50":
            for param in self.resnet.parameters():
                param.requires_grad = False

    def unfreeze_backbone(self):
        if self.backbone == "vgg":
            for param in self.vgg.parameters():
                param.requires_grad = True
        elif self.backbone == "resnet50":
            for param in self.resnet.parameters():
                param.requires_grad = True
"""

UNET_TRAIN = """\
import torch
from torch import nn

from nets.unet import Unet

if __name__ == "__main__":
    backbone = {backbone}
    Freeze_Epoch = {freeze_epochs}
    model = Unet(num_classes=21, backbone=backbone)
    model_train = model.train()
    model.freeze_backbone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for epoch in range(100):
        if epoch >= Freeze_Epoch:
            model.unfreeze_backbone()
        model_train.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model_train(x), y).backward()
            optimizer.step()
"""


def _lint_unet(tmp_path: Path, backbone: str, freeze_epochs: int = 50) -> list:
    write_project(tmp_path, {"nets/__init__.py": "", "nets/vgg.py": VGG, "nets/unet.py": UNET,
                             "train.py": UNET_TRAIN.format(backbone=backbone, freeze_epochs=freeze_epochs)})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_the_resnet_arm_of_the_freezing_method_is_reported(tmp_path: Path) -> None:
    [finding] = _lint_unet(tmp_path, '"resnet50"')
    assert finding.line == 11
    assert "`model_train.resnet` has BatchNorm layers" in finding.message and "nets/unet.py:25" in finding.message


def test_the_vgg_arm_has_no_batchnorm(tmp_path: Path) -> None:
    assert _lint_unet(tmp_path, '"vgg"') == []


def test_a_short_warm_up_is_undone_by_the_same_arm_of_the_unfreezing_method(tmp_path: Path) -> None:
    assert _lint_unet(tmp_path, '"resnet50"', freeze_epochs=3) == []


def test_a_backbone_that_cannot_be_read_takes_no_arm(tmp_path: Path) -> None:
    assert _lint_unet(tmp_path, "input()") == []


NAME_FILTER = """\
import torch
import torchvision

model = torchvision.models.{arch}(pretrained=True)
for name, p in model.named_parameters():
    if {test}:
        p.requires_grad = False
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.01)
model.train()
for x, y in []:
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
"""


def _name_filter(tmp_path: Path, arch: str, test: str) -> str:
    write_project(tmp_path, {"train.py": NAME_FILTER.format(arch=arch, test=test)})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 7
    return finding.message


def test_a_name_filter_names_only_the_head_of_the_family_it_spares(tmp_path: Path) -> None:
    # (the message named ``model.head.fc`` too, a head of another family, left open last session)
    assert "(`model.fc` trainable again; the rest stays frozen)" in _name_filter(tmp_path, "resnet50", '"fc" not in name')


def test_a_classifier_filter_names_the_classifier_once(tmp_path: Path) -> None:
    message = _name_filter(tmp_path, "densenet121", '"classifier" not in name')
    assert "(`model.classifier` trainable again; the rest stays frozen)" in message


def test_a_filter_on_one_classifier_layer_names_that_layer(tmp_path: Path) -> None:
    message = _name_filter(tmp_path, "mobilenet_v3_large", 'not name.startswith("classifier.3")')
    assert "(`model.classifier[3]` trainable again; the rest stays frozen)" in message
