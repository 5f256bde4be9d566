"""GL406 on held-out round 56 (``bench/heldout/round56``), in our own words: a driver-state
classifier whose model class freezes its backbone under a constructor flag and offers
``unfreeze_backbone()``, which a trainer class of another module calls once its warm-up
epochs are over. The trainer's call is not followed, so the method's unconditional unfreeze
counts as undoing the freeze: a short warm-up is not a finding."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODEL = """\
import torch.nn as nn
from torchvision import models


class DriverNet(nn.Module):
    def __init__(self, freeze_backbone=False):
        super().__init__()
        self.backbone = models.mobilenet_v2(weights="DEFAULT")
        self.backbone.classifier = nn.Identity()
        if freeze_backbone:
            for param in self.backbone.features.parameters():
                param.requires_grad = False
        self.head = nn.Linear(1280, 10)

    def unfreeze_backbone(self):
        for param in self.backbone.parameters():
            param.requires_grad = True

    def forward(self, x):
        return self.head(self.backbone(x))
"""

TRAINER = """\
import torch


class Trainer:
    def __init__(self, model, warmup_epochs=5):
        self.model = model
        self.warmup_epochs = warmup_epochs
        self.optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))

    def fit(self, loader, epochs):
        for epoch in range(1, epochs + 1):
            if epoch == self.warmup_epochs + 1:
                self.model.unfreeze_backbone()
                self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-4)
            self.model.train()
            for x, y in loader:
                loss = torch.nn.functional.cross_entropy(self.model(x), y)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
"""

SCRIPT = """\
from model import DriverNet
from trainer import Trainer

model = DriverNet(freeze_backbone=True)
Trainer(model, warmup_epochs=5).fit([], 30)
"""


def test_a_backbone_a_trainer_of_another_module_unfreezes_after_a_warm_up_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODEL, "trainer.py": TRAINER, "train.py": SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []



ZOO = """\
import torch.nn as nn
from torchvision import models


def get_model(name="resnet18", n=2, freeze=True, pretrained=True):
    model = models.resnet18(weights="DEFAULT" if pretrained else None)
    model.fc = nn.Linear(512, n)
    if freeze and pretrained:
        for p in model.parameters():
            p.requires_grad = False
        for p in model.fc.parameters():
            p.requires_grad = True
    return model
"""

CONFIGURED = """\
import torch
from zoo import get_model
{load}


def main(loader):
    model = get_model(config["model"], freeze=config["freeze"])
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
    for epoch in range(20):
        model.train()
        for x, y in loader:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""

YAML_LOAD = """\
import yaml

CONFIG_PATH = "../configs/exp.yaml"
config = yaml.safe_load(open(CONFIG_PATH))"""


def test_a_freeze_flag_from_a_dict_of_an_imported_config_module_is_read(tmp_path: Path) -> None:
    files = {"zoo.py": ZOO, "config.py": 'config = {"model": "resnet18", "freeze": %s, "lr": 1e-4}\n',
             "train.py": CONFIGURED.replace("{load}", "from config import config")}
    write_project(tmp_path, {**files, "config.py": files["config.py"] % "True"})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert "`get_model` (zoo.py:9) returns it with its parameters frozen" in finding.message
    write_project(tmp_path, {"config.py": files["config.py"] % "False"})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_freeze_flag_from_the_top_of_a_yaml_file_loaded_by_a_literal_path_is_read(tmp_path: Path) -> None:
    for value, expected in (("true", [7]), ("false", []), ("no  # fine-tune all", [])):
        write_project(tmp_path, {"src/zoo.py": ZOO, "src/train.py": CONFIGURED.replace("{load}", YAML_LOAD),
                                 "configs/exp.yaml": f"model: resnet18\nfreeze: {value}\noptim:\n  lr: 0.001\n"})
        findings = lint_in_process(tmp_path / "src" / "train.py", "GL406")
        assert [f.line for f in findings] == [line + 3 for line in expected], value


def test_a_freeze_under_freeze_and_pretrained_follows_the_freeze_flag(tmp_path: Path) -> None:
    script = CONFIGURED.replace("{load}", "config = {'model': 'resnet18', 'freeze': False}")
    write_project(tmp_path, {"zoo.py": ZOO, "train.py": script})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


BACKBONES = """\
import timm


def build_backbone(model_name="efficientnet_b0", pretrained=True):
    model = timm.create_model(model_name, pretrained=pretrained, num_classes=0)
    return model, model.num_features
"""

WOUND_MODEL = """\
import torch
import torch.nn as nn
from backbones import build_backbone


class WoundNet(nn.Module):
    def __init__(self, n=5):
        super().__init__()
        self.backbone, width = build_backbone({name})
        self.head = nn.Linear(width, n)
        for param in self.backbone.parameters():
            param.requires_grad = False

    def forward(self, x):
        return self.head(self.backbone(x))


model = WoundNet()
optimizer = torch.optim.Adam(model.head.parameters())
for epoch in range(10):
    model.train()
    for x, y in []:
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""


def test_a_backbone_from_a_builder_returning_the_model_and_its_width_is_read(tmp_path: Path) -> None:
    for name, expected in (('"efficientnet_b0"', [12]), ("", [12]), ('"vit_small_patch16_224"', [])):
        write_project(tmp_path, {"backbones.py": BACKBONES, "train.py": WOUND_MODEL.replace("{name}", name)})
        assert [f.line for f in lint_in_process(tmp_path / "train.py", "GL406")] == expected, name
