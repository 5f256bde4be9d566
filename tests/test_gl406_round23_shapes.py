"""GL406 shapes from held-out round 23 (real code, ``bench/heldout/round23``), the MELD
multimodal-sentiment projects (soumilsuri, medevs):

- a model whose class keeps two frozen encoders with BatchNorm (a video and an audio one)
  is two findings, at the one call that builds it;
- a trainer class built with the model but only asked to log (a test of the logging)
  trains nothing: no finding there.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ENCODERS = """\
import torch.nn as nn
from torchvision.models.video import r3d_18


class VideoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = r3d_18(weights=None)
        for param in self.backbone.parameters():
            param.requires_grad = False
        self.backbone.fc = nn.Linear(512, 128)

    def forward(self, x):
        return self.backbone(x)


class AudioEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_layers = nn.Sequential(nn.Conv1d(64, 64, 3), nn.BatchNorm1d(64), nn.ReLU(), nn.AdaptiveAvgPool1d(1))
        for param in self.conv_layers.parameters():
            param.requires_grad = False
        self.projection = nn.Linear(64, 128)

    def forward(self, x):
        return self.projection(self.conv_layers(x).squeeze(-1))


class Fusion(nn.Module):
    def __init__(self):
        super().__init__()
        self.video_encoder = VideoEncoder()
        self.audio_encoder = AudioEncoder()
        self.head = nn.Linear(256, 7)

    def forward(self, video, audio):
        return self.head(torch.cat([self.video_encoder(video), self.audio_encoder(audio)], 1))
"""

TRAINER = """\
import torch


class Trainer:
    def __init__(self, model, loader):
        self.model = model
        self.loader = loader
        self.optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def log_metrics(self, losses):
        print(losses)

    def train_epoch(self):
        self.model.train()
        for video, audio, y in self.loader:
            self.optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(self.model(video, audio), y)
            loss.backward()
            self.optimizer.step()
        self.log_metrics({"loss": loss.item()})

    def fit(self, epochs):
        for _ in range(epochs):
            self.train_epoch()
"""

SCRIPT = """\
from models import Fusion
from trainer import Trainer


def main(loader):
    model = Fusion()
    trainer = Trainer(model, loader)
    {use}


main([])
"""


def test_two_frozen_encoders_of_one_model_are_two_findings(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": "import torch\n" + ENCODERS, "trainer.py": TRAINER,
                             "train.py": SCRIPT.format(use="trainer.fit(30)")})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert sorted((f.code, f.line, f.message.split(" has ")[0]) for f in findings) == [
        ("GL406", 6, "`model.audio_encoder.conv_layers`"), ("GL406", 6, "`model.video_encoder.backbone`")]
    assert all("`self.model.train()` in `Trainer` (trainer.py:14), called on line 7 with `model`" in f.message
               for f in findings)


def test_a_trainer_only_asked_to_log_trains_nothing(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": "import torch\n" + ENCODERS, "trainer.py": TRAINER,
                             "logs.py": SCRIPT.format(use='trainer.log_metrics({"total": 2.5})\n'
                                                          '    if not hasattr(trainer, "epoch"):\n'
                                                          '        trainer.epoch = 1'),
                             "steps.py": SCRIPT.format(use="trainer.train_epoch()")})
    assert lint_in_process(tmp_path / "logs.py", "GL406") == []
    assert len(lint_in_process(tmp_path / "steps.py", "GL406")) == 2


PHASED = """\
import torch
from torch import nn
from torchvision import models


def unfreeze_layers(model, layer_names):
    for name, param in model.named_parameters():
        if any(part in name for part in layer_names):
            param.requires_grad = True
            print("unfroze", name)


def train_phase(model, loader, epochs):
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


model = models.resnet101(weights=None)
model.fc = nn.Linear(2048, 10)
for param in model.parameters():
    param.requires_grad = False
for param in model.fc.parameters():
    param.requires_grad = True
train_phase(model, [], 15)
unfreeze_layers(model, ["layer4", "fc"])
train_phase(model, [], 20)
{last}
"""


def test_phases_that_end_with_the_stem_trainable_again_are_quiet(tmp_path: Path) -> None:
    """HarshilMaks' EuroSAT phases (round 23, a look-alike): classifier only, then layer4, then everything."""
    write_project(tmp_path, {
        "phased.py": PHASED.format(last='unfreeze_layers(model, ["conv1", "bn1", "layer1", "layer2", "layer3"])\n'
                                        'train_phase(model, [], 15)'),
        "stuck.py": PHASED.format(last="")})
    assert lint_in_process(tmp_path / "phased.py", "GL406") == []
    [stuck] = lint_in_process(tmp_path / "stuck.py", "GL406")
    assert (stuck.code, stuck.line) == ("GL406", 26)
    assert "(`model.fc`, `model.layer4` trainable again; the rest stays frozen)" in stuck.message
