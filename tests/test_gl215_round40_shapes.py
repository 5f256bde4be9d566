"""GL215 shapes from held-out round 40 (real code, ``bench/heldout/round40``), in our own
words: a U-Net trainer (round 40/b, washikia) keeps its loss on a configuration object
(``self.training_config = TrainingConfig(self.model)``, whose ``__init__`` sets
``self.loss_fn = nn.CrossEntropyLoss()``) and calls it as
``self.training_config.loss_fn(self.model(x), y)`` on a model ending in ``nn.Softmax``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

TRAINER = """\
import torch
from torch import nn


class UNet(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(3, classes, 1)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.conv(x))


class TrainingConfig:
    def __init__(self, model, lr=1e-4):
        self.loss_fn = {loss}
        self.optimiser = torch.optim.AdamW(model.parameters(), lr=lr)


class Trainer:
    def __init__(self, loader):
        self.loader = loader
        self.model = UNet()
        self.training_config = TrainingConfig(self.model)

    def train_one_epoch(self):
        self.model.train()
        for x, y in self.loader:
            loss = self.training_config.loss_fn(self.model(x), y.long())
            self.training_config.optimiser.zero_grad()
            loss.backward()
            self.training_config.optimiser.step()
"""


def _lint(tmp_path: Path, loss: str) -> list:
    write_project(tmp_path, {"train.py": TRAINER.format(loss=loss)})
    return lint_in_process(tmp_path / "train.py", "GL215")


def test_a_loss_held_by_a_configuration_object_of_the_file(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "nn.CrossEntropyLoss()")
    assert finding.line == 30
    assert finding.message.startswith("UNet's output (line 9) is softmax probabilities, and this line feeds it to "
                                      "CrossEntropyLoss")


def test_a_held_loss_that_expects_probabilities_is_quiet(tmp_path: Path) -> None:
    assert _lint(tmp_path, "nn.KLDivLoss()") == []
