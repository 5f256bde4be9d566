"""GL215 on synthetic held-out round 48s (``bench/heldout/round48s/b``), in our own words: a
tabular script whose two training functions each bind ``model``, one to an MLP returning raw
logits trained with ``nn.BCELoss``, the other to a model ending in a sigmoid; each
function's ``model`` is its own local."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process

SCRIPT = """\
import torch
import torch.nn as nn


class ScoreMLP(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n, 32), nn.ReLU())
        self.out = nn.Linear(32, 1)

    def forward(self, x):
        return self.out(self.body(x)).squeeze(-1)


class Wide(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.fc = nn.Linear(n, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x)).squeeze(-1)


def fit_mlp(loader, n):
    model = ScoreMLP(n)
    loss_fn = nn.BCELoss()
    opt = torch.optim.Adam(model.parameters())
    for x, y in loader:
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def fit_wide(loader, n):
    model = Wide(n)
    loss_fn = nn.BCELoss()
    opt = torch.optim.Adam(model.parameters())
    for x, y in loader:
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
"""


def test_raw_logits_into_bce_where_another_function_binds_the_name_to_a_sigmoid_model(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    [finding] = lint_in_process(path, "GL215")
    assert (finding.code, finding.line) == ("GL215", 29)
    assert "ScoreMLP's output (line 12) is raw logits" in finding.message and "BCELoss" in finding.message
