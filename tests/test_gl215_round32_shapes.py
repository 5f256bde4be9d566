"""GL215 shapes from held-out round 32 (real code, ``bench/heldout/round32``):

- a fault-diagnosis script trains a softmax-ending model on the rows of a graph's training
  split: ``loss(y_hat[train_idx], label[train_idx])`` (rows or columns of probabilities are
  still probabilities);
- an activity-recognition script hands ``net.float()`` to a training helper of another
  module that builds ``nn.CrossEntropyLoss()`` itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

MASKED = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Conv(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.out = nn.Linear(16, n)

    def forward(self, x):
        return F.{ending}(self.out(x), dim=1)


if __name__ == "__main__":
    model = Conv(4)
    loss = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters())
    features, label, train_idx = torch.randn(8, 16), torch.zeros(8).long(), torch.arange(4)
    for epoch in range(10):
        optimizer.zero_grad()
        y_hat = model(features)
        train_loss = loss({fed}, label[train_idx])
        train_loss.backward()
        optimizer.step()
"""


@pytest.mark.parametrize("fed", ["y_hat[train_idx]", "y_hat[:4]", "model(features)[train_idx, :]"])
def test_rows_of_a_softmax_output_fed_to_cross_entropy(tmp_path: Path, fed: str) -> None:
    write_project(tmp_path, {"cnn.py": MASKED.format(ending="softmax", fed=fed)})
    [finding] = lint_in_process(tmp_path / "cnn.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 23)
    assert "Conv's output (line 12) is softmax probabilities" in finding.message


def test_rows_of_log_probabilities_are_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"cnn.py": MASKED.format(ending="log_softmax", fed="y_hat[train_idx]")})
    assert lint_in_process(tmp_path / "cnn.py", "GL215") == []


HAR_MODEL = """\
import torch.nn as nn
import torch.nn.functional as F


class BiLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(9, 32, bidirectional=True)
        self.fc = nn.Linear(64, 6)

    def forward(self, x, h):
        out, _ = self.lstm(x, h)
        return F.softmax(self.fc(out[-1]))
"""

HAR_TRAIN = """\
import torch
from torch import nn


def train(net, loader, epochs=100, lr=0.001):
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    net.train()
    for epoch in range(epochs):
        for inputs, targets, h in loader:
            opt.zero_grad()
            output = net(inputs.float(), h)
            criterion(output, targets.long()).backward()
            opt.step()
"""

HAR_MAIN = """\
from model import BiLSTM
from train import train

for lr in [0.001, 0.0025]:
    net = BiLSTM()
    train(net.float(), [], epochs=5, lr=lr)
"""


def test_the_model_handed_on_as_net_float(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": HAR_MODEL, "train.py": HAR_TRAIN, "main.py": HAR_MAIN})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 6)
    assert "BiLSTM's output (model.py:13) is softmax probabilities, and this line hands it to `train` (train.py:13)" \
        in finding.message
