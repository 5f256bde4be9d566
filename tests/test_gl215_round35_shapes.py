"""GL215 shapes from held-out round 35 (real code, ``bench/heldout/round35``): a module
that computes its own loss in ``forward`` on a buffer it fills row by row with its softmax
layer (``total_pred[i] = self.softmax(self.linear(h))``, a constant one-hot row for an
empty input), then ``self.loss_fn(total_pred, label)`` with ``nn.CrossEntropyLoss``
(round 35/b, Fathachmad)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

TRACKER = """\
import torch
from torch import nn


class TrackClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(100, 3)
        self.softmax = nn.{layer}(dim=-1)
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.parameters())

    def forward(self, tracks, label):
        total_pred = torch.zeros(len(tracks), 3)
        for i, track in enumerate(tracks):
            if track is None:
                total_pred[i] = torch.tensor([0, 0, 1])
                continue
            total_pred[i] = self.softmax(self.linear(track))
        return self.loss_fn(total_pred, label)

    def fit(self, tracks, label, epochs=10):
        for epoch in range(epochs):
            loss = self.forward(tracks, label)
            loss.backward()
            self.optimizer.step()
"""


def test_a_buffer_of_softmax_rows_fed_to_cross_entropy(tmp_path: Path) -> None:
    write_project(tmp_path, {"tracker.py": TRACKER.format(layer="Softmax")})
    [finding] = lint_in_process(tmp_path / "tracker.py", "GL215")
    assert finding.code == "GL215" and finding.line == 20
    assert "`total_pred[...] = self.softmax(self.linear(track))` (line 19) is softmax probabilities" in finding.message


@pytest.mark.parametrize("layer", ["LogSoftmax", "Identity"])
def test_a_buffer_of_log_probabilities_or_logits_is_not_reported(tmp_path: Path, layer: str) -> None:
    write_project(tmp_path, {"tracker.py": TRACKER.format(layer=layer)})
    assert lint_in_process(tmp_path / "tracker.py", "GL215") == []
