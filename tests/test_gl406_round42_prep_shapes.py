"""GL406 shapes of misses left from held-out round 40 (real code, ``bench/heldout/round40``),
in our own words: a transfer-learning tutorial (round 40/a, RobertRelyea) picks its network
by a module constant (``MODEL = 'densenet161'``) and builds its optimiser in an
``if MODEL == 'densenet161': ... else: ...`` choice, each arm optimising only that
network's head. One arm's optimiser does not make the other arm's backbone trainable, and
the arm the constant rules out never runs."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

SCRIPT = """\
import torch.nn as nn
import torch.optim as optim
import torchvision

MODEL = {model!r}

if MODEL == 'resnet18':
    model_conv = torchvision.models.resnet18(pretrained=True)
else:
    model_conv = torchvision.models.densenet161(pretrained=True)

if MODEL == 'densenet161':
    model_conv.classifier = nn.Linear(2208, 5)
    optimizer = optim.SGD(model_conv.classifier.parameters(), lr=0.001)
else:
    model_conv.fc = nn.Linear(512, 5)
    optimizer = optim.SGD(model_conv.fc.parameters(), lr=0.001)


def train_model(model, criterion, optimizer, loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


train_model(model_conv, nn.CrossEntropyLoss(), optimizer, [])
"""


def _lint(tmp_path: Path, model: str) -> list:
    write_project(tmp_path, {"train.py": SCRIPT.format(model=model)})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_the_head_only_optimiser_of_the_chosen_arm_is_reported(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "densenet161")
    assert finding.line == 14 and "only `model_conv.classifier` is optimised" in finding.message


def test_the_other_constant_reports_the_other_arm(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "resnet18")
    assert finding.line == 17 and "only `model_conv.fc` is optimised" in finding.message


def test_a_constant_naming_neither_arm_keeps_the_else_arm(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "vgg16")
    assert finding.line == 17
