"""GL215 shapes of held-out rounds 66–69, in our own words: a loss picked by a constant
switch of the script (``LOSS = "softmaxcb"``, then ``if LOSS == "ce": criterion =
nn.CrossEntropyLoss()``) is the arm the constant takes (round 66/a's gesture notebook, read
once notebooks were linted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

SWITCHED = """\
    import torch
    import torch.nn as nn


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(32, 5), nn.Softmax(dim=-1))

        def forward(self, x):
            return self.body(x)


    class BalancedLoss(nn.Module):
        def forward(self, probs, labels):
            return -(probs.clamp_min(1e-7).log() * nn.functional.one_hot(labels, 5)).sum(1).mean()


    LOSS = "{loss}"
    model = Classifier()
    if LOSS == "balanced":
        criterion = BalancedLoss()
    elif LOSS == "ce":
        criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters())


    def train(loader):
        for x, y in loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("loss", "expected"), [("ce", [("GL215", 30)]), ("balanced", [])])
def test_a_loss_picked_by_a_constant_switch(tmp_path: Path, loss: str, expected: list) -> None:
    write_project(tmp_path, {"train.py": SWITCHED.format(loss=loss)})
    findings = lint_in_process(tmp_path / "train.py", "GL215")
    assert [(f.code, f.line) for f in findings] == expected
