"""GL406 misses of held-out round 46's first run (``bench/heldout/round46/a``, a mask and age
classifier of a bootcamp), in our own words: models taken from a dict in a loop over its
keys, each frozen and then made trainable again from the second element of its
``nn.Sequential`` on (``net.body[1:]``: the pretrained trunk, element 0, stays frozen), and
trained by an imported function that calls ``train()`` on a local copy of its parameter
(``current = net``; ``current.train()``)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODEL = """\
import torch.nn as nn
import torchvision


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        trunk = torchvision.models.resnet50(pretrained=True)
        self.trunk = nn.Sequential(*list(trunk.children())[:-2])
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 3))
        self.body = nn.Sequential(self.trunk, self.head)

    def forward(self, x):
        return self.body(x)
"""

FIT = """\
import torch


def fit(net, epochs, optimizer, loss_fn, loader):
    current = net
    for epoch in range(epochs):
        for phase in ["train", "val"]:
            if phase == "train":
                current.train()
            else:
                current.eval()
            for x, y in loader[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    loss = loss_fn(current(x), y)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
"""

MAIN = """\
import torch
from model import Net
from fit import fit

if __name__ == "__main__":
    first, second = Net(), Net()
    models = {{"a": first, "b": second}}
    for key in ["a", "b"]:
        net = models[key]
        for p in net.parameters():
            p.requires_grad = False
        for p in {reopened}.parameters():
            p.requires_grad = True
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
        fit(net, 10, optimizer, torch.nn.CrossEntropyLoss(), {{}})
"""


def test_a_sequential_trainable_from_its_second_element_leaves_the_trunk_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODEL, "fit.py": FIT, "main.py": MAIN.format(reopened="net.body[1:]")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 11)
    assert "(`net.body[1:]` trainable again; the rest stays frozen)" in finding.message
    # the train call as the training function writes it, on its local copy of the parameter
    assert "`current.train()` in `fit` (fit.py:9)" in finding.message


def test_the_whole_model_made_trainable_again_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODEL, "fit.py": FIT, "main.py": MAIN.format(reopened="net.body[0:]")})
    # (``[0:]`` is every element: nothing stays frozen)
    assert lint_in_process(tmp_path / "main.py", "GL406") == []
