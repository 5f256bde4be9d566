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

