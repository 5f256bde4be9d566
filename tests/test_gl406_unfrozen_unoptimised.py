"""GL406: an encoder set trainable each epoch (``p.requires_grad = True`` beside
``encoder.train()``) but left out of every optimiser never learns, so its BatchNorm
statistics drift all the same (held-out round 46/b, an image-captioning critic whose
encoder keeps Inception-v3's layers). Written in our own words."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODELS = """\
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, backbone, requires_grad=False):
        super().__init__()
        self.stem = backbone.Conv2d_1a_3x3
        self.block = backbone.Mixed_5b
        for p in self.parameters():
            p.requires_grad = requires_grad
        self.fc = nn.Linear(256, 64)

    def forward(self, x):
        return self.fc(self.block(self.stem(x)).mean((2, 3)))
"""

SCRIPT = """\
import torch
import torch.nn as nn
from torchvision import models

from models import Encoder


def train(epochs):
    encoder = Encoder(models.inception_v3(weights="DEFAULT"))
    decoder = nn.GRU(64, 64)
    optimizer = torch.optim.Adam([{"params": decoder.parameters()}], lr=1e-3)
    for epoch in range(epochs):
        decoder.train()
        encoder.train()
        for p in encoder.parameters():
            p.requires_grad = True
        for images, captions in []:
            features = encoder(images)
            out, _ = decoder(features.unsqueeze(0))
            loss = out.pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        encoder.eval()
        for p in encoder.parameters():
            p.requires_grad = False
"""


def test_an_encoder_made_trainable_but_in_no_optimiser_drifts(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS, "train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 18  # ``features = encoder(images)``
    assert "no optimiser of the file takes its parameters, but `encoder.train()` on line 14" in finding.message


def test_the_same_encoder_in_the_optimiser_trains(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS, "train.py": SCRIPT.replace(
        '[{"params": decoder.parameters()}]', '[{"params": decoder.parameters()}, {"params": encoder.parameters()}]')})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
