"""GL406 and a freezing helper that reopens the last ``n`` children of the model it froze (a
shape of held-out round 85, set b, in our own words): whether BatchNorm stays frozen depends
on ``n`` at each call and on the architecture's children."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

SCRIPT = """\
import torch
from torch import nn
from torchvision import models

REOPENED = 3


def reopen_last(model, how_many=REOPENED):
    for param in model.parameters():
        param.requires_grad = False
    layers = list(model.children())

    def make_trainable(module):
        for param in module.parameters():
            param.requires_grad = True

    layers.reverse()
    done = 0
    for layer in layers:
        if done >= how_many:
            break
        make_trainable(layer)
        done += 1
    return model


def fit(model, loader):
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
    for epoch in range(20):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


def run_{name}(loader):
    model = models.{builder}(weights="DEFAULT")
    model = reopen_last(model{count})
    fit(model, loader)
"""


def _lines(tmp_path: Path, builder: str, count: str = "") -> list[tuple[str, int]]:
    write_project(tmp_path, {"train.py": SCRIPT.format(name=builder, builder=builder, count=count)})
    return [(f.code, f.line) for f in lint_in_process(tmp_path / "train.py", "GL406")]


def test_reopening_the_last_three_children_of_a_resnet_leaves_its_stem_frozen(tmp_path: Path) -> None:
    assert _lines(tmp_path, "resnet50") == [("GL406", 39)]


def test_reopening_the_last_three_children_of_a_densenet_reopens_all_of_it(tmp_path: Path) -> None:
    assert _lines(tmp_path, "densenet121") == []
    assert _lines(tmp_path, "mobilenet_v2") == []


def test_the_count_is_read_at_each_call(tmp_path: Path) -> None:
    assert _lines(tmp_path, "densenet121", ", how_many=1") == [("GL406", 39)]
    assert _lines(tmp_path, "efficientnet_b0", ", 2") == [("GL406", 39)]
    assert _lines(tmp_path, "efficientnet_b0", ", 3") == []
