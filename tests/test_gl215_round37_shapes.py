"""GL215 shapes from held-out round 37 (real code, ``bench/heldout/round37``): a textbook
classifier whose ``forward`` builds its softmax layer and applies it at once
(``x = nn.Softmax(dim=1)(x)``), trained with ``nn.CrossEntropyLoss`` (round 37/b, a book's
chapter 12 and a learner's copy of it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

IRIS = """\
import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.layer1 = nn.Linear(input_size, hidden_size)
        self.layer2 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        x = self.layer1(x)
        x = nn.Sigmoid()(x)
        x = self.layer2(x)
        {ending}


model = Model(4, 16, 3)
loss_fn = nn.{loss}()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
for epoch in range(100):
    for x_batch, y_batch in []:
        pred = model(x_batch)
        loss = loss_fn(pred, y_batch.long())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
"""


@pytest.mark.parametrize("ending", ["x = nn.Softmax(dim=1)(x)\n        return x", "return nn.Softmax(dim=1)(x)"])
def test_a_softmax_layer_built_and_applied_in_forward(tmp_path: Path, ending: str) -> None:
    write_project(tmp_path, {"iris.py": IRIS.format(ending=ending, loss="CrossEntropyLoss")})
    [finding] = lint_in_process(tmp_path / "iris.py", "GL215")
    assert finding.line == 24 + ending.count("\n")
    assert "Model's output (line 15) is softmax probabilities, and this line feeds it to CrossEntropyLoss" in finding.message


def test_the_inline_softmax_into_kl_divergence_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"iris.py": IRIS.format(ending="return nn.Softmax(dim=1)(x)", loss="KLDivLoss")})
    assert lint_in_process(tmp_path / "iris.py", "GL215") == []


def test_the_hidden_sigmoid_layer_is_not_the_output(tmp_path: Path) -> None:
    write_project(tmp_path, {"iris.py": IRIS.format(ending="return x", loss="CrossEntropyLoss")})
    assert lint_in_process(tmp_path / "iris.py", "GL215") == []
