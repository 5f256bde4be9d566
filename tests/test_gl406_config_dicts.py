"""GL406 where the freezing flag travels in a configuration dict handed to a trainer class
(held-out round 54/a, in our own words): ``main`` writes ``config = {..., "freeze": True}``,
builds ``Trainer(config)``, whose ``__init__`` builds the classifier with
``freeze=config["freeze"]``; the classifier's constructor freezes its pretrained ResNet when
the flag is set and the trainer's epoch calls ``self.model.train()``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODEL = """\
import torch.nn as nn
from torchvision import models


class FlowerNet(nn.Module):
    def __init__(self, n=5, freeze=False):
        super().__init__()
        self.resnet = models.resnet18(weights="DEFAULT")
        if freeze:
            for p in self.resnet.parameters():
                p.requires_grad = False
        self.resnet.fc = nn.Linear(512, n)

    def forward(self, x):
        return self.resnet(x)
"""

TRAIN = """\
import torch
import torch.nn as nn
from model import FlowerNet


class Trainer:
    def __init__(self, config, loader):
        self.model = FlowerNet(n=config["classes"], freeze=config["freeze"])
        self.loader = loader
        self.opt = torch.optim.Adam(filter(lambda p: p.requires_grad, self.model.parameters()), lr=1e-3)

    def train_epoch(self):
        self.model.train()
        for x, y in self.loader:
            loss = nn.functional.cross_entropy(self.model(x), y)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()


def main(loader):
    config = {"classes": 5, "freeze": {flag}, "epochs": 30}
    trainer = Trainer(config, loader)
    for _ in range(config["epochs"]):
        trainer.train_epoch()
"""


def test_a_freeze_flag_set_in_the_config_dict_handed_to_the_trainer_is_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODEL, "train.py": TRAIN.replace("{flag}", "True")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 8)
    assert "`self.model.train()` on line 13 puts it back in train mode" in finding.message


def test_a_config_dict_that_leaves_the_backbone_trainable_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODEL, "train.py": TRAIN.replace("{flag}", "False")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_two_trainers_built_with_different_dicts_are_not_guessed(tmp_path: Path) -> None:
    source = TRAIN.replace("{flag}", "True") + "\n\ndef other(loader):\n    Trainer({\"classes\": 5, \"freeze\": False}, loader)\n"
    write_project(tmp_path, {"model.py": MODEL, "train.py": source})
    # (one call freezes and one does not: the flag is unknown, and the default leaves it trainable)
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
