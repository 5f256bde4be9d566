"""GL406 shapes from held-out round 36 (real code, ``bench/heldout/round36``): a captioning
encoder subclass whose ``__init__`` calls the freezing method it inherits
(``class Adaptive_Encoder(CNN_Encoder)``, ``self.fine_tune()``), frozen again by the
script's ``encoder.fine_tune(False)`` and trained with ``encoder.train()`` each epoch
(round 36/a, Evan-Sukhoi)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ENCODER = """\
import torch.nn as nn
import torchvision


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        resnet = torchvision.models.resnet50(weights=None)
        self.resnet = nn.Sequential(*list(resnet.children())[:-2])
        self.fine_tune()

    def forward(self, x):
        return self.resnet(x)

    def fine_tune(self, fine_tune=True):
        for p in self.resnet.parameters():
            p.requires_grad = False
        for c in list(self.resnet.children())[5:]:
            for p in c.parameters():
                p.requires_grad = fine_tune


class PooledEncoder(Encoder):
    def __init__(self, size):
        super().__init__()
        resnet = torchvision.models.resnet50(weights=None)
        self.resnet = nn.Sequential(*list(resnet.children())[:-2])
        self.pool = nn.AdaptiveAvgPool2d(size)
        self.fine_tune()
"""

TRAIN = """\
import torch
from encoder import PooledEncoder


def train_epoch(encoder, decoder, loader, optimizer):
    decoder.train()
    encoder.train(){kept}
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(decoder(encoder(x).mean((2, 3))), y).backward()
        optimizer.step()


def main(loader):
    encoder = PooledEncoder(7)
    encoder.fine_tune(False)
    decoder = torch.nn.Linear(2048, 10)
    optimizer = torch.optim.Adam(decoder.parameters())
    for epoch in range(10):
        train_epoch(encoder, decoder, loader, optimizer)
"""


def test_a_subclass_calling_the_inherited_freezing_method(tmp_path: Path) -> None:
    write_project(tmp_path, {"encoder.py": ENCODER, "train.py": TRAIN.format(kept="")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 15
    assert "`encoder.resnet` has BatchNorm layers and `PooledEncoder` (encoder.py:" in finding.message
    assert "`encoder.train()` on line 7 puts it back in train mode" in finding.message


def test_the_subclass_put_back_in_eval_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"encoder.py": ENCODER, "train.py": TRAIN.format(kept="\n    encoder.eval()")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
