"""GL406 shapes from held-out round 44 (real code, ``bench/heldout/round44``), in our own
words; each was a false finding on the first run.

- 44/a cneyang: a linear-probe script whose fine-tuning branch optimises the encoder in a
  parameter group (``SGD([{"params": encoder.parameters()}, {"params": fc.parameters()}])``);
  the encoder runs under ``no_grad`` only in the evaluation of that branch.
- 44/b sravan1023: a trainer's ``train_epoch`` puts the frozen encoder in train mode only in
  the arm that also makes it trainable again (``if fine_tune: encoder.train(); for p in
  encoder.parameters(): p.requires_grad = True else: encoder.eval(); <freeze>``).
- 44/b JessC: ``model = models[arch]`` from a module-level table of torchvision models
  (ResNet-18, AlexNet, VGG-16); the only entry with BatchNorm, the ResNet, fails on
  ``model.classifier[0]`` before it trains.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

PROBE = """\
import argparse

import torch
import torchvision

parser = argparse.ArgumentParser()
parser.add_argument("--finetune", action="store_true")
args = parser.parse_args()

encoder = torchvision.models.resnet18(weights="DEFAULT")
fc = torch.nn.Linear(512, 10)
if args.finetune:
    optimizer = torch.optim.SGD([{encoder_group}{{"params": fc.parameters(), "lr": 0.1}}], momentum=0.9)
else:
    encoder.eval()
    optimizer = torch.optim.SGD(fc.parameters(), lr=0.2)
for epoch in range(10):
    encoder.train(), fc.train()
    for x, y in []:
        optimizer.zero_grad()
        if args.finetune:
            out = fc(encoder(x))
        else:
            out = fc(x)
        torch.nn.functional.cross_entropy(out, y).backward()
        optimizer.step()
    encoder.eval(), fc.eval()
    with torch.no_grad():
        for x, y in []:
            if args.finetune:
                out = fc(encoder(x))
            else:
                out = fc(x)
"""


def test_an_encoder_optimised_in_a_parameter_group_is_not_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"probe.py": PROBE.format(encoder_group='{"params": encoder.parameters(), "lr": 0.01}, ')})
    assert lint_in_process(tmp_path / "probe.py", "GL406") == []


TRAINER = """\
import torch
import torchvision


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.resnet = torchvision.models.resnet50(weights="DEFAULT")
        for p in self.resnet.parameters():
            p.requires_grad = False


class Captioner(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = torch.nn.Linear(2048, 100)


class Trainer:
    def __init__(self, model, fine_tune_after):
        self.model = model
        self.fine_tune_after = fine_tune_after
        self.optimizer = torch.optim.Adam(self.model.parameters())

    def train_epoch(self, epoch, loader):
        if epoch > self.fine_tune_after:
            self.model.encoder.train()
            {unfreeze}
        else:
            self.model.encoder.eval()
            for p in self.model.encoder.parameters():
                p.requires_grad = False
        self.model.decoder.train()
        for x, y in loader:
            self.optimizer.zero_grad()
            torch.nn.functional.mse_loss(self.model.decoder(self.model.encoder(x)), y).backward()
            self.optimizer.step()


model = Captioner()
trainer = Trainer(model, 5)
for epoch in range(10):
    trainer.train_epoch(epoch, [])
"""


def test_train_mode_set_where_the_module_is_made_trainable_again_is_quiet(tmp_path: Path) -> None:
    unfreeze = "for p in self.model.encoder.parameters():\n                p.requires_grad = True"
    write_project(tmp_path, {"train.py": TRAINER.format(unfreeze=unfreeze)})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_the_same_arm_without_the_unfreeze_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": TRAINER.format(unfreeze="pass")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert "`model.encoder.resnet` has BatchNorm layers" in finding.message
    assert "`self.model.encoder.train()` in `Trainer`" in finding.message


TABLE = """\
import torch
from torch import nn
from torchvision import models

resnet18 = models.resnet18(pretrained=True)
alexnet = models.alexnet(pretrained=True)
vgg16 = models.vgg16(pretrained=True)

models = {{"resnet": resnet18, "alexnet": alexnet, "vgg": vgg16}}


def new_classifier(arch, n):
    model = models[arch]
    for param in model.parameters():
        param.requires_grad = False
    input_size = model.{head}.in_features
    model.{head} = nn.Linear(input_size, n)
    return model
"""

TABLE_TRAIN = """\
import argparse

import torch

from model_functions import new_classifier

parser = argparse.ArgumentParser()
parser.add_argument("--arch", default="vgg")
args = parser.parse_args()
model = new_classifier(args.arch, 102)
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
for epoch in range(5):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_table_entry_that_fails_on_its_head_read_never_trains(tmp_path: Path) -> None:
    write_project(tmp_path, {"model_functions.py": TABLE.format(head="classifier[0]"), "train.py": TABLE_TRAIN})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_the_resnet_entry_read_through_its_own_head_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"model_functions.py": TABLE.format(head="fc"), "train.py": TABLE_TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 10 and "for the 'resnet' entry of `models`" in finding.message


NETWORKS = """\
import torch.nn as nn


class ResNetTransferLearningNet(nn.Module):
    def __init__(self, model, num_classes=133, freeze=True):
        super().__init__()
        self.net = model
        self.net.fc = nn.Linear(model.fc.in_features, num_classes)
        if freeze:
            for param in self.net.parameters():
                param.requires_grad = False
            for param in self.net.fc.parameters():
                param.requires_grad = True

    def forward(self, x):
        return self.net(x)
"""

HANDED_TRAIN = """\
import torch
import torchvision.models as models

from networks import ResNetTransferLearningNet

model = ResNetTransferLearningNet(models.{arch}(pretrained=True))
optimizer = torch.optim.Adam(model.parameters())
for epoch in range(10):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_class_freezing_the_network_it_is_handed_is_read_with_the_argument(tmp_path: Path) -> None:
    # (44/a aaronlws95: ``ResNetTransferLearningNet(models.resnet50(pretrained=True))``)
    write_project(tmp_path, {"networks.py": NETWORKS, "train.py": HANDED_TRAIN.format(arch="resnet50")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 6 and "`model.net` has BatchNorm layers and `ResNetTransferLearningNet`" in finding.message


def test_the_same_class_handed_a_network_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"networks.py": NETWORKS, "train.py": HANDED_TRAIN.format(arch="vgg16")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
