"""GL406 shapes from held-out round 38 (real code, ``bench/heldout/round38``): MAE's linear
probe (round 38/c, 117XinyuLi): a factory of another module builds a ViT and puts the only
BatchNorm in its head (``model.head = nn.Sequential(nn.BatchNorm1d(d, affine=False),
model.head)``); the script freezes everything but ``model.head`` and trains in train mode,
as MAE means it to. The same recipe on a ResNet (BatchNorm in the trunk) is a finding."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

LOADER = """\
import timm
import torch
import torchvision


def load_probe_model(num_classes):
    model = {builder}
    model.{head} = torch.nn.Sequential(torch.nn.BatchNorm1d(model.{head}.in_features, affine=False, eps=1e-6),
                                      model.{head})
    return model
"""

PROBE = """\
import torch
from util.load_model import *


def main(loader, epochs=100):
    model = load_probe_model(num_classes=10)
    for p in model.parameters():
        p.requires_grad = False
    for p in model.{head}.parameters():
        p.requires_grad = True
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    for epoch in range(epochs):
        model.train()
        for data, target in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(data), target).backward()
            optimizer.step()
"""


def _probe(tmp_path: Path, builder: str, head: str) -> list:
    write_project(tmp_path, {"util/__init__.py": "", "util/load_model.py": LOADER.format(builder=builder, head=head),
                             "main_linprobe.py": PROBE.format(head=head)})
    return lint_in_process(tmp_path / "main_linprobe.py", "GL406")


def test_a_vit_whose_only_batchnorm_is_its_trainable_head_is_not_reported(tmp_path: Path) -> None:
    assert _probe(tmp_path, 'timm.create_model("vit_base_patch16_224", num_classes=num_classes)', "head") == []


def test_a_resnet_probed_the_same_way_keeps_its_trunk_batchnorm_frozen(tmp_path: Path) -> None:
    [finding] = _probe(tmp_path, "torchvision.models.resnet50(num_classes=num_classes)", "fc")
    assert finding.line == 8 and "`model` has BatchNorm layers" in finding.message


# round 38/a, renjie3: a SimCLR training function runs its model without gradients for a
# clustering pass between the steps it hands to ``train_batch`` (backward and step there);
# the optimiser built by the caller holds the model
SIMCLR = """\
import torch
import torchvision


def train_batch(net, x, optimizer):
    optimizer.zero_grad()
    net(x).pow(2).mean().backward()
    optimizer.step()


def train(net, loader, optimizer, epochs):
    for epoch in range(epochs):
        net.train()
        features = []
        with torch.no_grad():
            for x, _ in loader:
                features.append(net(x))
        for x, _ in loader:
            {step}


def main(loader):
    model = torchvision.models.resnet18(num_classes=128)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train(model, loader, optimizer, epochs=10)
"""


def test_a_training_functions_model_run_without_gradients_between_steps_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": SIMCLR.format(step="train_batch(net, x, optimizer)")})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


# round 38/c, SebinSong: the model, its loss and its optimiser come from one factory; the
# training function runs a test pass under ``torch.no_grad()`` after each epoch
WINE = """\
import torch
from torch import nn


def create_model(lr=1e-3):
    m = nn.Sequential(nn.Linear(11, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 1))
    o = torch.optim.Adam(m.parameters(), lr=lr)
    return m, nn.BCEWithLogitsLoss(), o


def train_model(train_loader, test_x, epochs=100):
    model, loss_func, optimizer = create_model()
    for epoch in range(epochs):
        model.train()
        for batch_x, batch_y in train_loader:
            loss = loss_func(model(batch_x), batch_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.train()
        with torch.no_grad():
            test_pred = (model(test_x) > 0).float()
    return model
"""


def test_a_model_trained_in_the_function_that_tests_it_without_gradients_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"wine.py": WINE})
    assert lint_in_process(tmp_path / "wine.py", "GL406") == []


# round 38/a, SafwanH28 (an image-classifier course project): ``setup_network`` builds a VGG16
# or a DenseNet-121, freezes it and gives it a classifier taking VGG's 25088 features; the
# DenseNet arm (the one with BatchNorm) fails on its first batch and never trains
NETWORK = """\
from collections import OrderedDict

import torch
from torch import nn
from torchvision import models


def setup_network(structure="vgg16", lr=0.001):
    if structure == "vgg16":
        model = models.vgg16(weights=None)
    elif structure == "densenet121":
        model = models.densenet121(weights=None)
    for param in model.parameters():
        param.requires_grad = False
    model.classifier = nn.Sequential(OrderedDict([
        ("1", nn.Linear({features}, 256)),
        ("relu", nn.ReLU()),
        ("2", nn.Linear(256, 102)),
        ("output", nn.LogSoftmax(dim=1)),
    ]))
    return model, nn.NLLLoss()
"""

SCRIPT = """\
import argparse

import torch
import fmodel

parser = argparse.ArgumentParser()
parser.add_argument("--arch", default="vgg16")
args = parser.parse_args()
model, criterion = fmodel.setup_network(args.arch)
optimizer = torch.optim.Adam(model.classifier.parameters())
for epoch in range(5):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
"""


def test_a_batchnorm_arm_whose_new_head_takes_the_wrong_number_of_features_never_trains(tmp_path: Path) -> None:
    write_project(tmp_path, {"fmodel.py": NETWORK.format(features=25088), "train.py": SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_the_batchnorm_arm_with_a_head_that_fits_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"fmodel.py": NETWORK.format(features=1024), "train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 9 and "when `structure == 'densenet121'`" in finding.message


# round 38/c, 1224667889 (a Kaggle cats-vs-dogs project): the package ``func`` names its
# modules' functions in ``__init__`` (``train = func.train.train``); the script freezes a
# ResNet-18 as ``transfer_model``, trains it as ``net = transfer_model.to(device)`` with only
# ``net.fc`` optimised: one model, one finding
PACKAGE = {
    "func/__init__.py": "import func.train\nimport func.validate\n\ntrain = func.train.train\nvalidate = func.validate.validate\n",
    "func/train.py": """\
def train(net, optimizer, criterion, loader):
    net.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(net(x), y).backward()
        optimizer.step()
""",
    "func/validate.py": "def validate(net, loader):\n    net.eval()\n",
    "train.py": """\
import torch
from torch import nn
from torchvision import models
import func as f

transfer_model = models.resnet18(weights=None)
for param in transfer_model.parameters():
    param.requires_grad = False
transfer_model.fc = nn.Linear(transfer_model.fc.in_features, 2)
net = transfer_model.to("cpu")
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.fc.parameters(), lr=1e-3)
for epoch in range(10):
    f.train(net, optimizer, criterion, [])
    f.validate(net, [])
""",
}


def test_a_training_function_a_package_names_in_its_init(tmp_path: Path) -> None:
    write_project(tmp_path, PACKAGE)
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 8
    assert "`net.train()` in `train` (func/__init__.py:4, through `train` at func/train.py:2)" in finding.message


# round 38/a, sagecodes: the script puts its folders on ``sys.path`` (``sys.path.insert(0,
# './models')``) and imports a plain class keeping a frozen ResNet-50 as ``self.model``; it
# trains that part under a name of its own (``train_model = model.model``)
STARTER = {
    "models/resnet50.py": """\
import torch.nn as nn
import torchvision.models as models


class Resnet50_pretrained:
    def __init__(self, num_classes):
        self.model = models.resnet50(weights=None)
        for param in self.model.parameters():
            param.requires_grad = False
        self.model.fc = nn.Linear(2048, num_classes)
""",
    "helpers/model_helpers.py": """\
def train(model, n_epochs, loader, optimizer, criterion):
    for epoch in range(n_epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
""",
    "train.py": """\
import sys
import torch.nn as nn
import torch.optim as optim

sys.path.insert(0, './helpers')
sys.path.insert(0, './models')

from resnet50 import Resnet50_pretrained
from model_helpers import train


def load_train(model_type="resnet50", num_classes=3):
    if model_type == "resnet50":
        model = Resnet50_pretrained(num_classes)
        optimizer = optim.SGD(model.model.fc.parameters(), lr=0.01)
        train_model = model.model
    train(train_model, 10, [], optimizer, nn.CrossEntropyLoss())
""",
}


def test_a_module_found_through_sys_path_and_its_frozen_part_trained_under_its_own_name(tmp_path: Path) -> None:
    write_project(tmp_path, STARTER)
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 14
    assert "`train_model` has BatchNorm layers and `Resnet50_pretrained` (models/resnet50.py:" in finding.message
    assert "frozen as `model.model`, which `train_model` holds (line 16)" in finding.message
