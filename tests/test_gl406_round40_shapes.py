"""GL406 shapes from held-out round 40 (real code, ``bench/heldout/round40``), in our own
words: a re-identification network's BNNeck (round 40/c, GianlucaSanfi) freezes only the
bias of its ``BatchNorm1d`` (``self.bnneck.bias.requires_grad_(False)``), the standard
recipe; one parameter frozen is no frozen module, and train mode is right for it."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

NETWORK = """\
import torch.nn as nn
from torchvision import models


class ReIDModel(nn.Module):
    def __init__(self, num_classes, feat_dim=512):
        super().__init__()
        base = models.resnet50(weights=None)
        self.backbone = nn.Sequential(*list(base.children())[:-2])
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, feat_dim)
        self.bnneck = nn.BatchNorm1d(feat_dim)
        {frozen}.requires_grad_(False)
        self.classifier = nn.Linear(feat_dim, num_classes, bias=False)

    def forward(self, x):
        feat = self.fc(self.gap(self.backbone(x)).flatten(1))
        return self.classifier(self.bnneck(feat))
"""

MAIN = """\
import torch
from torch import nn

from network import ReIDModel


def train_one_epoch(model, loader, optimizer):
    model.train()
    for images, labels in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()


model = ReIDModel(num_classes=576)
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=3e-4)
for epoch in range(60):
    train_one_epoch(model, [], optimizer)
"""


def _lint(tmp_path: Path, frozen: str) -> list:
    write_project(tmp_path, {"network.py": NETWORK.format(frozen=frozen), "main.py": MAIN})
    return lint_in_process(tmp_path / "main.py", "GL406")


def test_the_bnneck_bias_frozen_alone_is_not_a_frozen_module(tmp_path: Path) -> None:
    assert _lint(tmp_path, "self.bnneck.bias") == []


def test_the_backbone_frozen_the_same_way_is_reported(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "self.backbone")
    assert finding.line == 15 and "`model.backbone` has BatchNorm layers" in finding.message
