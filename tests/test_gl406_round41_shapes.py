"""GL406 shapes from held-out round 41 (real code, ``bench/heldout/round41``), in our own
words: a popular U-Net template (round 41/a, sirius2beta and clolckliang) builds its VGG
backbone with ``make_layers(cfg, batch_norm=False)``, a builder whose BatchNorm sits under
``if batch_norm:``, and freezes it for the first epochs; that VGG has no BatchNorm. The
same template with ``batch_norm=True`` has."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

VGG = """\
import torch.nn as nn


class VGG(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.features = features
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)

    def forward(self, x):
        return self.features(x)


def make_layers(cfg, batch_norm=False, in_channels=3):
    layers = []
    for v in cfg:
        conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
        if batch_norm:
            layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
        else:
            layers += [conv2d, nn.ReLU(inplace=True)]
        in_channels = v
    return nn.Sequential(*layers)


def VGG16(pretrained=False):
    return VGG(make_layers([64, 64, 128, 128], {switch}))
"""

UNET = """\
import torch.nn as nn

from nets.vgg import VGG16


class Unet(nn.Module):
    def __init__(self, num_classes=21):
        super().__init__()
        self.vgg = VGG16()
        self.final = nn.Conv2d(128, num_classes, 1)

    def forward(self, x):
        return self.final(self.vgg(x))

    def freeze_backbone(self):
        for param in self.vgg.parameters():
            param.requires_grad = False

    def unfreeze_backbone(self):
        for param in self.vgg.parameters():
            param.requires_grad = True
"""

TRAIN = """\
import torch
from torch import nn

from nets.unet import Unet

Freeze_Epoch = 50
UnFreeze_Epoch = 100
model = Unet(num_classes=21)
model_train = model.train()
model.freeze_backbone()
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-4)
for epoch in range(UnFreeze_Epoch):
    if epoch >= Freeze_Epoch:
        model.unfreeze_backbone()
    model_train.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model_train(x), y).backward()
        optimizer.step()
"""


def _lint(tmp_path: Path, switch: str) -> list:
    write_project(tmp_path, {"nets/__init__.py": "", "nets/vgg.py": VGG.format(switch=switch),
                             "nets/unet.py": UNET, "train.py": TRAIN})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_a_vgg_built_with_the_batchnorm_switch_off_has_none(tmp_path: Path) -> None:
    assert _lint(tmp_path, "batch_norm=False") == []


def test_the_switch_left_at_its_default_is_off(tmp_path: Path) -> None:
    assert _lint(tmp_path, "in_channels=3") == []


def test_the_same_vgg_with_the_switch_on_is_reported(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "batch_norm=True")
    assert finding.line == 10 and "`model_train.vgg` has BatchNorm layers" in finding.message
