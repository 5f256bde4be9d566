"""GL406 shapes of held-out round 81 (``bench/heldout/round81``), in our own words: a frozen
model a factory builds, bound with another value in one tuple assignment (``net, size =
make_densenet(), (224, 224)``)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODELS = """\
import torch.nn as nn
import torchvision


def make_densenet():
    net = torchvision.models.densenet201(weights="DEFAULT")
    for param in net.parameters():
        param.requires_grad = False
    net.classifier = nn.Linear(net.classifier.in_features, 196)
    return net
"""

TRAIN = """\
import torch
from models import make_densenet


def train(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


net, size = {built}
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=0.01)
for epoch in range(30):
    train(net, [], optimizer)
"""


def test_a_frozen_model_bound_in_a_tuple_assignment_is_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS, "train.py": TRAIN.format(built="make_densenet(), (224, 224)"),
                             "swapped.py": TRAIN.format(built="(224, 224), make_densenet()").replace(
                                 "net, size =", "size, net =")})
    for name in ("train.py", "swapped.py"):
        [finding] = lint_in_process(tmp_path / name, "GL406")
        assert (finding.code, finding.line) == ("GL406", 13)
        assert finding.message.startswith("`net` has BatchNorm layers and `make_densenet` (models.py:7) returns it "
                                          "with its parameters frozen")
