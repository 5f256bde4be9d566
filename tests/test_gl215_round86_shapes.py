"""GL215 shapes of held-out round 86 (``bench/heldout/round86``), in our own words: an SRGAN
project whose ``utils.py`` builds the generator and the sigmoid discriminator in one
function and the three losses in another, each returned as a tuple after moving every
element to the device (``d_model = d_model.to(device)``), and a training script in a
subfolder handing both to a trainer of a third module."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

DISCRIMINATOR = """\
import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 64, 3), nn.LeakyReLU(0.2), nn.Conv2d(64, 1, 1))

    def forward(self, x):
        batch_size = x.size(0)
        return torch.sigmoid(self.net(x).view(batch_size))
"""

UTILS = """\
import torch.nn as nn
from model.discriminator import Discriminator


def build_model(config):
    g_model = nn.Conv2d(3, 3, 3, padding=1)
    d_model = Discriminator()
    if "cuda" in config["device"]:
        g_model = g_model.to(config["device"])
        d_model = d_model.to(config["device"])
    return g_model, d_model


def define_loss(config):
    pixel_loss = nn.MSELoss()
    adversarial_loss = nn.BCEWithLogitsLoss()
    pixel_loss = pixel_loss.to(config["device"])
    adversarial_loss = adversarial_loss.to(config["device"])
    return pixel_loss, adversarial_loss
"""

TRAINER = """\
import torch


def train(g_model, d_model, loader, pixel_criterion, adversarial_criterion, d_optimizer):
    d_model.train()
    for hr, lr in loader:
        d_model.zero_grad()
        hr_output = d_model(hr)
        d_loss = adversarial_criterion(hr_output, torch.ones(hr.size(0)))
        d_loss.backward()
        d_optimizer.step()
"""

SCRIPT = """\
import torch
from utils import build_model, define_loss
from engine.trainer import train

config = {"device": "cuda"}
g_model, d_model = build_model(config)
pixel_criterion, adversarial_criterion = define_loss(config)
d_optimizer = torch.optim.Adam(d_model.parameters())
for epoch in range(100):
    train(g_model, d_model, [], pixel_criterion, adversarial_criterion, d_optimizer)
"""


def _project(tmp_path: Path, utils: str = UTILS) -> None:
    write_project(tmp_path, {"model/__init__.py": "", "model/discriminator.py": DISCRIMINATOR, "utils.py": utils,
                             "engine/__init__.py": "", "engine/trainer.py": TRAINER, "train.py": SCRIPT})


def test_losses_and_models_returned_as_tuples_after_a_move_to_the_device(tmp_path: Path) -> None:
    _project(tmp_path)
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 10)
    assert "Discriminator's output (model/discriminator.py:12" in finding.message
    assert "BCEWithLogitsLoss" in finding.message


def test_the_right_loss_at_that_position_is_not_reported(tmp_path: Path) -> None:
    _project(tmp_path, UTILS.replace("nn.BCEWithLogitsLoss()", "nn.BCELoss()"))
    assert lint_in_process(tmp_path / "train.py", "GL215") == []


def test_a_name_bound_to_another_loss_in_the_factory_is_not_read(tmp_path: Path) -> None:
    # ``adversarial_loss`` holds two kinds of loss: which one is returned is not known
    _project(tmp_path, UTILS.replace('    adversarial_loss = adversarial_loss.to(config["device"])\n',
                                     '    if config["device"] == "cpu":\n        adversarial_loss = nn.BCELoss()\n'))
    assert lint_in_process(tmp_path / "train.py", "GL215") == []
