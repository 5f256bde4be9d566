"""GL406 shapes from held-out round 42 (real code, ``bench/heldout/round42``), in our own words.

- 42/a GuocunWang: a perceptual loss module keeps ``VGG_loss(vgg19_bn())``, a class of a
  star-imported module that keeps the layers of the model it is given, freezes it, and is
  handed to a ``@dataclass`` trainer that calls it in its training loop; nothing puts it in
  eval mode. The trainer's own ``loss = a + b`` is another name.
- 42/a kienvbhp: ``self.encoder =GlobalEncoder (embed_size)``, a call written with a space
  before its parenthesis, of a class of another module freezing its ResNet.
- 42/a ToirovSadi: an encoder whose ``__init__`` calls ``self.freeze()``, which calls
  ``self._req_grad(False)``, a loop over ``named_parameters()`` stopping at the first
  ``fc`` (``if name.find('fc') != -1: break``) and setting ``requires_grad = b``; a
  LightningModule of the same file keeps it.
- 42/a windstormer (a look-alike): ``class CNet(object)`` with its own ``train(epoch)``
  method; ``self.train(epoch)`` is no mode switch.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

VGG_LOSS = """\
import torch.nn as nn


class VGG_loss(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.features = nn.Sequential(*list(model.children())[0][:-3]).to("cuda")

    def forward(self, x):
        return self.features(x)
"""

PERCEPTUAL = """\
import torch.nn as nn
from torchvision import models
from vgg_loss import *


class PerceptualLoss(nn.Module):
    def __init__(self):
        super().__init__()
        vgg = models.{arch}(pretrained=True)
        self.vggloss = VGG_loss(vgg)
        for param in self.vggloss.parameters():
            param.requires_grad = False
        self.l1 = nn.L1Loss()

    def forward(self, out, label):
        return self.l1(self.vggloss(out), self.vggloss(label))
"""

TRAIN = """\
from dataclasses import dataclass

import torch
from torch.nn import Module

from perceptual import *


@dataclass
class Trainer:
    model: Module
    opt: torch.optim.Optimizer
    loss: Module

    def train(self, loader, epochs):
        for epoch in range(epochs):
            self.model.train()
            for x, y in loader:
                self.opt.zero_grad()
                loss = self.loss(self.model(x), y) * 2
                loss.backward()
                self.opt.step()
            self.eval(loader)

    def eval(self, loader):
        self.model.eval()


def setup():
    model = torch.nn.Conv2d(3, 3, 3)
    loss = PerceptualLoss()
    opt = torch.optim.Adam(model.parameters())
    return Trainer(model, opt, loss)


if __name__ == "__main__":
    setup().train([], 10)
"""


def test_a_frozen_perceptual_loss_run_by_a_dataclass_trainer_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"vgg_loss.py": VGG_LOSS, "perceptual.py": PERCEPTUAL.format(arch="vgg19_bn"),
                             "train.py": TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 31 and "`loss.vggloss` has BatchNorm layers" in finding.message
    assert "`Trainer` (line 20)" in finding.message


def test_the_same_loss_on_a_vgg_without_batchnorm_is_not(tmp_path: Path) -> None:
    write_project(tmp_path, {"vgg_loss.py": VGG_LOSS, "perceptual.py": PERCEPTUAL.format(arch="vgg19"),
                             "train.py": TRAIN})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


ENCODER = """\
import torch
import torch.nn as nn
import torchvision


class GlobalEncoder(nn.Module):
    def __init__(self, embed_size):
        super().__init__()
        resnet = torchvision.models.resnet50(weights="IMAGENET1K_V1")
        self.resnet = nn.Sequential(*list(resnet.children())[:-1])
        self.linear = nn.Linear(2048, embed_size)
        for param in self.resnet.parameters():
            param.requires_grad = False

    def forward(self, image):
        with torch.no_grad():
            feat = self.resnet(image)
        return self.linear(feat.flatten(1))
"""

CAPTIONER = """\
import torch.nn as nn

from .encoder import  GlobalEncoder


class CaptionModel(nn.Module):
    def __init__(self, vocab_size, embed_size=512):
        super().__init__()
        self.encoder =GlobalEncoder (embed_size=embed_size)
        self.decoder = nn.Linear(embed_size, vocab_size)

    def forward(self, images):
        return self.decoder(self.encoder(images))
"""

CAPTION_TRAIN = """\
import torch
import torch.nn as nn

from models.caption_model import CaptionModel


def main():
    model = CaptionModel (100)
    optimizer = torch.optim.AdamW(model.parameters())
    for epoch in range(10):
        model.train()
        for images, captions in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images), captions).backward()
            optimizer.step()


if __name__ == "__main__":
    main()
"""


def test_calls_spelled_with_a_space_before_the_parenthesis_are_followed(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/__init__.py": "", "models/encoder.py": ENCODER,
                             "models/caption_model.py": CAPTIONER, "main.py": CAPTION_TRAIN})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert finding.line == 8 and "`model.encoder.resnet` has BatchNorm layers" in finding.message
    assert "through `GlobalEncoder`" in finding.message


LIGHTNING = """\
import lightning as L
import torch
import torch.nn as nn
from torchvision import models


class Encoder(nn.Module):
    def __init__(self, hidden_dim):
        super().__init__()
        self.model = models.resnet101(weights="IMAGENET1K_V2")
        self.model.fc = nn.Linear(self.model.fc.in_features, hidden_dim)
        self.freeze()

    def forward(self, x):
        return self.model(x)

    def _req_grad(self, b):
        for name, params in self.named_parameters():
            if name.find({head!r}) != -1:
                break
            params.requires_grad = b

    def freeze(self):
        self._req_grad(False)

    def unfreeze(self):
        self._req_grad(True)


class Captioner(L.LightningModule):
    def __init__(self, hidden_dim, vocab_size):
        super().__init__()
        self.encoder = Encoder(hidden_dim)
        self.decoder = nn.Linear(hidden_dim, vocab_size)

    def training_step(self, batch, batch_idx):
        images, captions = batch
        return nn.functional.cross_entropy(self.decoder(self.encoder(images)), captions)

    def configure_optimizers(self):
        return torch.optim.Adam(filter(lambda p: p.requires_grad, self.parameters()))
"""


def test_a_class_freezing_itself_through_two_methods_is_reported_in_its_lightning_holder(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": LIGHTNING.format(head="fc")})
    [finding] = lint_in_process(tmp_path / "model.py", "GL406")
    assert finding.line == 12 and "`self.encoder` has BatchNorm layers" in finding.message
    assert "Lightning's Trainer" in finding.message


def test_a_stop_at_the_first_stage_freezes_too_little_to_say(tmp_path: Path) -> None:
    # (``conv1`` then ``bn1``: stopping at "bn1" freezes one convolution, no BatchNorm)
    write_project(tmp_path, {"model.py": LIGHTNING.format(head="bn1")})
    assert lint_in_process(tmp_path / "model.py", "GL406") == []


OWN_TRAIN = """\
import torch
import torchvision


class CNet(object):
    def __init__(self, mode):
        self.mode = mode
        self.encoder = torchvision.models.resnet18(pretrained=True)
        self.decoder = torch.nn.Linear(512, 2)
        if self.mode != "fixed":
            self.optimizer = torch.optim.Adam(list(self.encoder.parameters()) + list(self.decoder.parameters()))
        else:
            for param in self.encoder.parameters():
                param.requires_grad = False
            self.optimizer = torch.optim.Adam(self.decoder.parameters())

    def run(self, loader, epochs):
        if self.mode != "fixed":
            self.encoder.train()
        else:
            self.encoder.eval()
        self.decoder.train()
        for epoch in range(epochs):
            self.train(loader)

    def train(self, loader):
        for x, y in loader:
            self.optimizer.zero_grad()
            torch.nn.functional.cross_entropy(self.decoder(self.encoder(x)), y).backward()
            self.optimizer.step()
"""


def test_a_plain_class_calling_its_own_train_method_switches_no_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"cnet.py": OWN_TRAIN})
    assert lint_in_process(tmp_path / "cnet.py", "GL406") == []


BACKBONE = """\
import torch.nn as nn
from torchvision import models


class ResNetBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.freeze_base = {switch}
        self.base_network = models.resnet101(weights="DEFAULT")
        if self.freeze_base:
            for param in self.base_network.parameters():
                param.requires_grad = False

    def forward(self, images):
        return self.base_network(images)
"""

BACKBONE_TRAIN = """\
import torch

from backbone import ResNetBackbone

model = ResNetBackbone()
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
for epoch in range(10):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
"""


def test_a_freeze_under_an_attribute_switched_off_in_init_never_runs(tmp_path: Path) -> None:
    # (42/b stevenlinlinlin: ``self.freeze_base = False`` then ``if self.freeze_base: <freeze>``)
    write_project(tmp_path, {"backbone.py": BACKBONE.format(switch="False"), "train.py": BACKBONE_TRAIN})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_the_same_switch_on_freezes(tmp_path: Path) -> None:
    write_project(tmp_path, {"backbone.py": BACKBONE.format(switch="True"), "train.py": BACKBONE_TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 5 and "`model.base_network` has BatchNorm layers" in finding.message


CHOSEN_CLASS = """\
import torch.nn as nn
from torchvision.models import resnet50


class FrozenResnet(nn.Module):
    def __init__(self):
        super().__init__()
        model = resnet50(weights="DEFAULT")
        model.requires_grad_(False)
        model.fc = nn.Linear(model.fc.in_features, 2)
        self.model = model

    def train(self):
        return self.model.train()

    def forward(self, x):
        return self.model(x)
"""

CHOSEN_TRAIN = """\
import torch
from torch import nn

from frozen_resnet import FrozenResnet


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x)


def train(epochs=1, model_name="FrozenResnet", pretrained_path=None):
    ModelClass = None
    if model_name == "FrozenResnet":
        ModelClass = FrozenResnet
    else:
        ModelClass = SmallCNN
    model = ModelClass()
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
    if pretrained_path:
        model = torch.load(pretrained_path + "model.pth", weights_only=False)
    for epoch in range(epochs):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


def test_a_class_bound_to_a_name_by_an_if_chain_is_built_through_it(tmp_path: Path) -> None:
    # (42/c yuki172: ``ModelClass = Resnet50Model2`` ... ``model = ModelClass()``, a resumed
    # ``torch.load`` of the whole model on the way)
    write_project(tmp_path, {"frozen_resnet.py": CHOSEN_CLASS, "train.py": CHOSEN_TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 22 and "`model.model` has BatchNorm layers" in finding.message
    assert "`FrozenResnet` (frozen_resnet.py:9)" in finding.message

