"""GL215 on held-out round 49 (``bench/heldout/round49/c``), in our own words: a model
package whose network ends in ``nn.Softmax`` and is built by a class method
(``Net.from_pretrained(...)``, which returns ``cls(...)``), re-exported by the package's
``__init__`` and trained with ``CrossEntropyLoss``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, classes=7):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(16, classes)
        self.classify = nn.Softmax(dim=1)

    def forward(self, x):
        return self.classify(self.fc(self.body(x)))

    @classmethod
    def from_name(cls, name, classes=7):
        return cls(classes)

    @classmethod
    def from_pretrained(cls, name, classes=7):
        model = cls.from_name(name, classes)
        return model

    def describe(self):
        return "net"
"""

TRAIN = """\
import torch

from model import Net

model = Net.{method}("net-b0", classes=7)
loss_function = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters())
for epoch in range(3):
    for images, labels in []:
        optimizer.zero_grad()
        loss = loss_function(model(images), labels)
        loss.backward()
        optimizer.step()
"""


def test_a_model_built_by_a_class_method_of_a_softmax_class(tmp_path: Path) -> None:
    write_project(tmp_path, {"model/__init__.py": "from .net import Net\n", "model/net.py": MODEL,
                             "train.py": TRAIN.format(method="from_pretrained")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 11)
    assert finding.message.startswith("Net's output (model/net.py:9) is softmax probabilities, and this line feeds it "
                                      "to CrossEntropyLoss")


def test_a_plain_method_is_not_a_constructor(tmp_path: Path) -> None:
    train = TRAIN.format(method="describe").replace('"net-b0", classes=7', "")
    write_project(tmp_path, {"model/__init__.py": "from .net import Net\n", "model/net.py": MODEL, "train.py": train})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []


HELPERS = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 32)
        self.output = nn.Linear(32, 10)

    def forward(self, x):
        return F.softmax(self.output(torch.relu(self.body(x))), dim=1)


def cal(data, model, criterion):
    loss = 0
    for x, y in data:
        out = model(x)
        loss += criterion(out, y).item()
    return loss


def cal_train(data, model, criterion, optimizer):
    for x, y in data:
        optimizer.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        loss.backward()
        optimizer.step()


model = Model()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters())
for epoch in range(10):
    cal_train([], model, criterion, optimizer)
    print(cal([], model, criterion))
"""


def test_the_finding_sits_at_the_loss_that_trains(tmp_path: Path) -> None:
    # (round 50/b, ravishk17+cs6910_assignment2: an accuracy helper computes the same loss first)
    write_project(tmp_path, {"train.py": HELPERS})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 28)
    assert finding.message.startswith("Model's output (line 13) is softmax probabilities")


# round 49/b (Britefury, a false finding): a domain-adaptation experiment offers a flag that
# applies softmax before the classification loss, as an ablation; the other arm of the ``if``
# is the ordinary training on logits
ABLATION = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


def train(net, loader, optimizer, double_softmax=False):
    criterion = nn.CrossEntropyLoss()
    net.train()
    for x, y in loader:
        logits = net(x)
        if double_softmax:
            loss = criterion(F.softmax(logits, dim=1), y)
        else:
            loss = criterion({other}, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""


def test_a_switch_between_probabilities_and_logits_for_one_loss_is_an_ablation(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": ABLATION.format(other="logits")})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []


def test_softmax_in_both_arms_is_still_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": ABLATION.format(other="F.softmax(logits, dim=-1)")})
    findings = lint_in_process(tmp_path / "train.py", "GL215")
    assert [(f.code, f.line) for f in findings] == [("GL215", 12), ("GL215", 14)]
