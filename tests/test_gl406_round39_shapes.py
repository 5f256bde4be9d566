"""GL406 shapes from held-out round 39 (real code, ``bench/heldout/round39``), in our own
words: a frozen wrapper class whose training script pickles the model once trained
(Arnoochka), a script whose only freeze and only ``train()`` are calls of a helper
module it star-imports (george-studenko), and a model picked from a table of instances
by a command-line key the file does not fix (blowe615, judithagara)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

WRAPPER = """\
import torch.nn as nn
import torchvision.models as models


class ResNet18(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.resnet = models.resnet18(weights=None)
        for param in self.resnet.parameters():
            param.requires_grad = False
        self.resnet.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        return self.resnet(x)
"""

PICKLING = """\
import pickle

import torch
from torch import nn, optim
from net import ResNet18 as Net


def train(net, loader, optimizer, epochs):
    loss_function = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        for inputs, labels in loader:
            optimizer.zero_grad()
            loss = loss_function(net(inputs), labels)
            loss.backward()
            optimizer.step()


def main(loader):
    net = Net(10)
    optimizer = optim.SGD(net.parameters(), lr=0.01)
    train(net, loader, optimizer, 5)
    with open("model.pkl", "wb") as f:
        {saving}(net, f)
"""


def test_a_model_pickled_after_training_is_still_run_in_train_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"net.py": WRAPPER, "train.py": PICKLING.format(saving="pickle.dump")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 19 and "`net.resnet` has BatchNorm layers" in finding.message
    assert "handing it on line 21 to `train`" in finding.message


def test_a_model_handed_to_an_unknown_helper_after_training_is_not_read(tmp_path: Path) -> None:
    # a helper of another library may put it in eval mode: nothing is said
    write_project(tmp_path, {"net.py": WRAPPER, "train.py": PICKLING.format(saving="exporter.export")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


NETWORK = """\
import torch
from torch import nn, optim
from torchvision import models


def get_pretrained_network(arch):
    if arch == "densenet":
        model = models.densenet161(weights=None)
    else:
        model = models.vgg19(weights=None)
    return model


def freeze_layers(model, arch):
    if arch == "densenet":
        for param in model.parameters():
            param.requires_grad = False
    return model


def get_optimizer(model):
    return optim.Adam(model.classifier.parameters(), lr=0.001)


def train_network(model, loader, epochs, optimizer):
    criterion = nn.NLLLoss()
    for epoch in range(epochs):
        model.train()
        for inputs, y in loader:
            optimizer.zero_grad()
            criterion(model(inputs), y).backward()
            optimizer.step()
    return model
"""

STARRED = """\
from network import *


def main(loader):
    model = get_pretrained_network("densenet")
    model = freeze_layers(model, "densenet")
    optimizer = get_optimizer(model)
    model = train_network(model, loader, 5, optimizer)
"""


def test_a_freeze_and_a_train_call_both_made_by_star_imported_helpers(tmp_path: Path) -> None:
    write_project(tmp_path, {"network.py": NETWORK, "train.py": STARRED})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 6 and "`freeze_layers` (network.py:16) freezes its parameters here" in finding.message
    assert "`model.train()` in `train_network` (network.py:28)" in finding.message


TABLE = """\
import argparse

import torch
from torch import nn
from torchvision import models

from options import train_parser
from loops import train

args = train_parser()
arch_dict = {{"{first}": models.{first}(weights=None), "alexnet": models.alexnet(weights=None)}}
model = arch_dict[args["arch"]]
for param in model.parameters():
    param.requires_grad = False
model.classifier = nn.Sequential(nn.Linear(25088, 102), nn.LogSoftmax(dim=1))
optimizer = torch.optim.Adam(model.classifier.parameters())
train(model, [], nn.NLLLoss(), optimizer, 3)
"""

OPTIONS = """\
import argparse


def train_parser():
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="alexnet")
    return vars(parser.parse_args())
"""

LOOPS = """\
def train(model, loader, criterion, optimizer, epochs):
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
"""


def _table(tmp_path: Path, first: str) -> list:
    write_project(tmp_path, {"options.py": OPTIONS, "loops.py": LOOPS, "train.py": TABLE.format(first=first)})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_a_table_entry_with_batchnorm_picked_by_an_unread_key_is_a_configuration(tmp_path: Path) -> None:
    [finding] = _table(tmp_path, "vgg19_bn")
    assert finding.line == 14
    assert finding.message.startswith("`model` has BatchNorm layers for the 'vgg19_bn' entry of `arch_dict` (line 11)")


def test_a_table_without_batchnorm_entries_is_quiet(tmp_path: Path) -> None:
    assert _table(tmp_path, "vgg19") == []


# round 39/a (Git-juYoung, judged debatable): a builder freezes every parameter, then makes
# trainable again the children from a stage named in a YAML file on (a flag the loop sets
# when it passes that name). Since round 52 (the same recipe in another project of the
# author, counted as a finding there) that is read as "the children from a named one on":
# the stem and the stages before it stay frozen, GL406's policy for partial freezes
CHILDREN_AFTER = """\
import torch
from torch import nn
from torchvision import models


def build_resnet50(freeze_until):
    model = models.resnet50(weights=None)
    for p in model.parameters():
        p.requires_grad = False
    unfreeze = False
    for name, module in model.named_children():
        {test}
            unfreeze = True
        if unfreeze:
            for p in module.parameters():
                p.requires_grad = True
    return model


student = build_resnet50(freeze_until="layer2")
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, student.parameters()), lr=0.01)
student.train()
for x, y in []:
    optimizer.zero_grad()
    nn.functional.cross_entropy(student(x), y).backward()
    optimizer.step()
"""


def test_children_made_trainable_from_the_named_one_on_leave_the_stem_frozen(tmp_path: Path) -> None:
    source = CHILDREN_AFTER.format(test="if name == freeze_until:")
    write_project(tmp_path, {"train.py": source})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 20)
    assert ("`build_resnet50` (line 8) returns it with its parameters frozen (some of its later stages trainable "
            "again; the stem and the stages before them stay frozen)") in finding.message


def test_children_made_trainable_by_another_test_of_the_name_leave_the_frozen_part_unknown(tmp_path: Path) -> None:
    source = CHILDREN_AFTER.format(test="if name.startswith(freeze_until):")
    write_project(tmp_path, {"train.py": source})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


NAMED_CHILDREN = """\
import torch
from torch import nn
from torchvision import models

model = models.resnet50(weights=None)
for p in model.parameters():
    p.requires_grad = False
for name, module in model.named_children():
    if name in {names}:
        for p in module.parameters():
            p.requires_grad = True
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.01)
model.train()
for x, y in []:
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
"""


def test_children_made_trainable_by_name_leave_the_stem_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": NAMED_CHILDREN.format(names='["layer4", "fc"]')})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 7 and "(`model.fc`, `model.layer4` trainable again; the rest stays frozen)" in finding.message


def test_every_child_made_trainable_by_name_is_quiet(tmp_path: Path) -> None:
    names = '["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"]'
    write_project(tmp_path, {"train.py": NAMED_CHILDREN.format(names=names)})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


# round 37/a (ishxn-s11): the class freezes its backbone in one method and a second method,
# called with a stage from the configuration, makes the named modules trainable again; that
# second method alone says nothing about what stays frozen, so the freeze is still read
STAGE_METHOD = """\
import torch
from torch import nn
from torchvision import models


class Encoder(nn.Module):
    def __init__(self, stage="none"):
        super().__init__()
        self.backbone = models.resnet18(weights=None)
        for p in self.backbone.parameters():
            p.requires_grad = False
        self.unfreeze_stage(stage)

    def unfreeze_stage(self, stage):
        target = {"stage4": ["layer4"]}.get(stage, [])
        for name, module in self.backbone.named_modules():
            if name in target:
                for p in module.parameters():
                    p.requires_grad = True

    def forward(self, x):
        return self.backbone(x)


model = Encoder()
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
model.train()
for x, y in []:
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
"""


def test_a_separate_unfreezing_method_leaves_the_freeze_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": STAGE_METHOD})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 11 and "`model.backbone` has BatchNorm layers" in finding.message
