"""GL215 shapes from held-out round 34 (real code, ``bench/heldout/round34``): a model
whose forward ends by a flag its constructor keeps, ``def __init__(self, softmax=True):
self.softmax = softmax`` and ``if self.softmax: x = F.softmax(self.fc3(x), dim=1) else:
x = self.fc3(x)``. Built with the default, it returns probabilities; built with
``softmax=False``, logits (round 34/b, FABallemand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

MODEL = """\
import torch.nn as nn
import torch.nn.functional as F


class TinyCNN(nn.Module):
    def __init__(self, softmax=True, nb_classes=2):
        super().__init__()
        self.softmax = softmax
        self.fc1 = nn.Linear(8, 16)
        self.fc3 = nn.Linear(16, nb_classes)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        if self.softmax:
            x = F.softmax(self.fc3(x), dim=1)
        else:
            x = self.fc3(x)
        return x

    def loss(self, x, y):
        return nn.CrossEntropyLoss()(self.forward(x), y)
"""

SCRIPT = """\
import torch
import torch.nn as nn
from cnn import TinyCNN

model = {built}
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters())
for x, y in [(torch.randn(4, 8), torch.zeros(4).long())]:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
"""


@pytest.mark.parametrize("built", ["TinyCNN(nb_classes=2)", "TinyCNN(True, 2)", "TinyCNN(softmax=True)"])
def test_a_model_built_with_its_softmax_flag_at_the_default(tmp_path: Path, built: str) -> None:
    write_project(tmp_path, {"cnn.py": MODEL, "train.py": SCRIPT.format(built=built)})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert finding.code == "GL215" and finding.line == 10
    assert "TinyCNN's output (cnn.py:15; built with `softmax` at its default, True) is softmax probabilities" \
        in finding.message


@pytest.mark.parametrize("built", ["TinyCNN(softmax=False)", "TinyCNN(False)", "TinyCNN(**options)"])
def test_a_model_built_with_the_flag_off_or_unknown_is_not_reported(tmp_path: Path, built: str) -> None:
    write_project(tmp_path, {"cnn.py": MODEL, "train.py": "options = {}\n" + SCRIPT.format(built=built)})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []


def test_the_class_s_own_loss_method_is_not_reported_for_a_flag_its_instances_choose(tmp_path: Path) -> None:
    # ``self.forward(x)`` inside the class: whether the instance was built with softmax on is not known there
    write_project(tmp_path, {"cnn.py": MODEL})
    assert lint_in_process(tmp_path / "cnn.py", "GL215") == []
