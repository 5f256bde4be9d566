"""GL215 on held-out round 58/c (``bench/heldout/round58``), in our own words: one script
trains three classifiers in turn under the same name (``model = BertHead(...)``, later
``model = RobertaHead(...)``), each handed to a shared ``train`` helper of another module
that applies the loss it is given; each finding names the model built before its call."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

HEADS = """\
import torch.nn as nn


class BertHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 3)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.linear(x))


class RobertaHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 3)

    def forward(self, x):
        return self.linear(x).softmax(dim=1)
"""

HELPER = """\
def train(data, model, optimizer, loss_fn):
    model.train()
    x, y = data
    loss = loss_fn(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""

SCRIPT = """\
import torch
import torch.nn as nn
from heads import BertHead, RobertaHead
from helpers import train

model = BertHead()
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters())
for data in []:
    train(data, model, optimizer, loss_fn)

model = RobertaHead()
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters())
for data in []:
    train(data, model, optimizer, loss_fn)
"""


def test_each_model_is_reported_at_the_call_it_reaches(tmp_path: Path) -> None:
    write_project(tmp_path, {"heads.py": HEADS, "helpers.py": HELPER, "train.py": SCRIPT})
    findings = sorted(lint_in_process(tmp_path / "train.py", "GL215"), key=lambda f: f.line)
    assert [(f.line, f.message.split("'s output")[0]) for f in findings] == [(10, "BertHead"), (16, "RobertaHead")]
    assert "this line hands it to `train` (helpers.py:4), which feeds it to CrossEntropyLoss" in findings[0].message
