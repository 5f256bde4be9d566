"""GL215 on held-out round 57/c (``bench/heldout/round57``), in our own words: a course
template whose script does ``from models import *``, the package's ``__init__`` star-imports
each model module, and the script builds the model with a builder function of one of them
(``net = small_resnet()``) whose class ends in softmax."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODEL = """\
import torch.nn as nn
import torch.nn.functional as F


class SmallResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.linear = nn.Linear(16, classes)

    def forward(self, x):
        out = F.adaptive_avg_pool2d(F.relu(self.conv(x)), 1).flatten(1)
        return F.softmax(self.linear(out), dim=1)


def small_resnet():
    return SmallResNet()
"""

MAIN = """\
import torch
import torch.nn as nn
from models import *

net = small_resnet()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
for inputs, targets in []:
    optimizer.zero_grad()
    outputs = net(inputs)
    loss = criterion(outputs, targets)
    loss.backward()
    optimizer.step()
"""


def test_a_builder_a_package_star_reexports_is_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/__init__.py": "from .plain import *\nfrom .small import *\n",
                             "models/plain.py": "import torch.nn as nn\n", "models/small.py": MODEL, "main.py": MAIN})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert finding.line == 11
    assert "SmallResNet's output (models/small.py:13; `small_resnet` can build a SmallResNet) is softmax" in finding.message


def test_the_same_builder_ending_in_logits_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/__init__.py": "from .small import *\n",
                             "models/small.py": MODEL.replace("F.softmax(self.linear(out), dim=1)", "self.linear(out)"),
                             "main.py": MAIN})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []
