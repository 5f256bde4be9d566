"""GL406 shapes of held-out round 74 (``bench/heldout/round74``), in our own words: a frozen
backbone handed to a trainer class whose training methods it inherits from a base class of
another module."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

FACTORY = """\
    import torch
    from torchvision import models


    def frozen_resnet50():
        net = models.resnet50(weights="DEFAULT")
        for param in net.parameters():
            param.requires_grad = False
        net.fc = torch.nn.Linear(2048, 10)
        return net
"""

BASE_TRAINER = """\
    import torch.optim as optim


    class BaseTrain:
        def __init__(self, net, epochs=10):
            self.model = net
            self.epochs = epochs
            self.optimizer = optim.SGD(self.model.parameters(), lr=1e-3)

        def train(self, loader):
            for epoch in range(self.epochs):
                self.train_one_epoch(loader)

        def train_one_epoch(self, loader):
            self.model.train()
            for x, y in loader:
                loss = self.model(x).sum()
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
"""

SUBCLASS = """\
    import torch.optim as optim
    from torchvision import models

    from base_train import BaseTrain


    class TrainHead(BaseTrain):
    {init}
"""

SCRIPT = """\
    import models
    from head_train import TrainHead


    def main(loader):
        trainer = TrainHead(models.frozen_resnet50())
        trainer.train(loader)
"""


@pytest.mark.parametrize(("init", "expected", "where"), [
    ("    def __init__(self, net, epochs=10):\n"
     "            super(TrainHead, self).__init__(net, epochs)\n"
     "            self.optimizer = optim.Adam(self.model.fc.parameters(), lr=1e-3)",
     [("GL406", 6)], "head_train.py:9"),
    ("    pass", [("GL406", 6)], "head_train.py:7"),
    ("    def __init__(self, net, epochs=10):\n"
     "            BaseTrain.__init__(self, net=net, epochs=epochs)", [("GL406", 6)], "head_train.py:9"),
    ("    def __init__(self, net, epochs=10):\n"
     "            super().__init__(models.resnet18(), epochs)", [], ""),
])
def test_a_trainer_subclass_trains_what_it_hands_its_base(tmp_path: Path, init: str, expected: list,
                                                            where: str) -> None:
    """Round 74/a's multi-label classifier: ``TrainRes50(models.net_res50(), ...)``, a
    subclass of ``BaseTrain`` (another module) that keeps ``self.model = net`` and calls
    ``self.model.train()`` each epoch; the subclass's ``__init__`` passes ``net`` on to
    ``super().__init__``. A subclass that hands its base a model of its own trains that one."""
    write_project(tmp_path, {"models.py": FACTORY, "base_train.py": BASE_TRAINER,
                             "head_train.py": SUBCLASS.format(init=init), "main.py": SCRIPT})
    findings = lint_in_process(tmp_path / "main.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert (f"but `self.model.train()` in `TrainHead` ({where}, through `BaseTrain` at base_train.py:15), "
                "called on line 6 with `models.frozen_resnet50()`, puts it back in train mode") in findings[0].message


CAPTIONER = """\
    import torch.nn as nn
    from torchvision import models


    class MobileBackbone(nn.Module):
        def __init__(self, embed_size, pretrained=True):
            super().__init__()
            backbone = models.mobilenet_v3_small(weights="DEFAULT")
            for param in backbone.parameters():
                param.requires_grad_(not pretrained)
            self.cnn = nn.Sequential()
            self.cnn.add_module("backbone", nn.Sequential(*list(backbone.children())[:-1]))

        def forward(self, image):
            return self.cnn(image).flatten(1)


    class EfficientBackbone(nn.Module):
        def __init__(self, embed_size, pretrained=True):
            super().__init__()
            backbone = models.efficientnet_v2_s(weights="DEFAULT")
            for param in backbone.parameters():
                param.requires_grad_(not pretrained)
            modules = list(backbone.children())
            self.cnn = nn.Sequential()
            self.cnn.add_module("backbone", nn.Sequential(*(modules[:-1])))

        def forward(self, image):
            return self.cnn(image).flatten(1)


    class PlainBackbone(nn.Module):
        def __init__(self, embed_size):
            super().__init__()
            self.cnn = nn.Sequential(nn.Conv2d(3, embed_size, 3), nn.BatchNorm2d(embed_size), nn.ReLU())

        def forward(self, image):
            return self.cnn(image).mean((2, 3))


    class Captioner(nn.Module):
        def __init__(self, backbone_type, embed_size, vocab_size):
            super().__init__()
            if backbone_type == "mobilenet":
                self.encoder = MobileBackbone(embed_size)
            elif backbone_type == "efficientnet_v2":
                self.encoder = EfficientBackbone(embed_size)
            else:
                self.encoder = PlainBackbone(embed_size)
            self.decoder = nn.LSTM(embed_size, vocab_size)

        def forward(self, images):
            return self.decoder(self.encoder(images).unsqueeze(0))[0]
"""

CAPTIONING_SCRIPT = """\
    import torch

    from model import Captioner

    backbone_type = "{backbone}"
    model = Captioner(backbone_type, 256, 5000)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(10):
        for images in []:
            loss = model(images).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("backbone", "expected", "through"), [
    ("efficientnet_v2", [("GL406", 6)], "(model.py:47, through `EfficientBackbone` at model.py:22)"),
    ("mobilenet", [("GL406", 6)], "(model.py:45, through `MobileBackbone` at model.py:9)"),
    ("plain", [], ""),
])
def test_each_arm_of_a_backbone_switch_is_its_own_frozen_part(tmp_path: Path, backbone: str, expected: list,
                                                              through: str) -> None:
    """Round 74/a's captioner: ``backbone_type = "efficientnet_v2"`` at the top of the script
    picks the arm of ``Captioner.__init__`` that builds ``EfficientBackbone``, which freezes a
    torchvision EfficientNet (``requires_grad_(not pretrained)``) and keeps its layers through
    ``self.cnn.add_module("backbone", ...)``. The finding names the arm the script picks;
    the arm building a backbone nothing freezes is not reported."""
    write_project(tmp_path, {"model.py": CAPTIONER, "train.py": CAPTIONING_SCRIPT.format(backbone=backbone)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert findings[0].message.startswith(f"`model.encoder.cnn` has BatchNorm layers and `Captioner` {through} "
                                              "returns it with its parameters frozen")


TIMM_BACKBONE = """\
    import timm
    import torch
    import torch.nn as nn

    MODEL_NAME = "{name}"


    class CowID(nn.Module):
        def __init__(self, model_name, classes):
            super().__init__()
            backbone = timm.create_model(model_name, pretrained=True, num_classes=0)
            self.backbone = backbone
            self.head = nn.LazyLinear(classes)

        def forward(self, x):
            return self.head(self.backbone(x))


    def main(loader):
        model = CowID(MODEL_NAME, 12)
        for param in model.backbone.parameters():
            param.requires_grad = False
        optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
        for epoch in range(20):
            model.train()
            for images, labels in loader:
                loss = nn.functional.cross_entropy(model(images), labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
"""


@pytest.mark.parametrize(("name", "expected"), [("resnet50", [("GL406", 22)]), ("vit_base_patch16_224", [])])
def test_a_timm_backbone_named_by_the_constant_every_construction_passes(tmp_path: Path, name: str,
                                                                          expected: list) -> None:
    """Round 74/c's cattle identification scripts: ``timm.create_model(model_name)`` in
    ``__init__``, the class built once with ``MODEL_NAME = "resnet50"``; the backbone is frozen
    in ``main`` and the model trained in train mode. A ViT has no BatchNorm to drift."""
    write_project(tmp_path, {"train_id.py": TIMM_BACKBONE.format(name=name)})
    findings = lint_in_process(tmp_path / "train_id.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert findings[0].message.startswith("`model.backbone` has BatchNorm layers and its parameters are frozen here")
