"""GL215 shapes from held-out round 29 (real code, ``bench/heldout/round29``):

- a multi-head classifier whose ``forward`` fills a dict (or list) with one softmax per
  head and returns it, each head's probabilities fed to CrossEntropyLoss as
  ``criterion(outputs[head], y)`` in a training helper of another module (face-attribute
  classifiers);
- a model that returns its softmax only in training mode (``if self.training: return
  probs``; ``argmax`` at evaluation), trained by a class that keeps ``model.to(device)``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

HEADS = """\
import torch.nn as nn
import torch.nn.functional as F


class MultiHead(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.body = nn.Linear(16, 32)
        self.heads = nn.ModuleDict({name: nn.Linear(32, n) for name, n in dims.items()})

    def forward(self, x):
        features = self.body(x)
        outputs = {}
        for name, head in self.heads.items():
            logits = head(features)
            outputs[name] = F.softmax(logits, dim=1)
        return outputs


class ListHeads(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.heads = nn.ModuleList(nn.Linear(16, n) for n in sizes)

    def forward(self, x):
        return [F.softmax(head(x), dim=-1) for head in self.heads]


class LogitHeads(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.heads = nn.ModuleDict({name: nn.Linear(16, n) for name, n in dims.items()})

    def forward(self, x):
        outputs = {}
        for name, head in self.heads.items():
            outputs[name] = head(x)
        return outputs


class MixedHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(16, 3)
        self.b = nn.Linear(16, 1)

    def forward(self, x):
        return {"kind": F.softmax(self.a(x), dim=1), "score": self.b(x)}
"""

FIT = """\
import torch
import torch.nn as nn


def fit(model, loader, epochs, lr):
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            outputs = model(x)
            loss = 0
            for i, head in enumerate(outputs):
                loss += criterion(outputs[head], y[:, i])
            loss.backward()
            optimizer.step()
"""

BY_HELPER = """\
from heads import {cls}
from fit import fit

model = {cls}({{"age": 3, "eyes": 2}})
fit(model, [], 3, 0.1)
"""

INLINE = """\
import torch
import torch.nn as nn
from heads import {cls}

model = {cls}([3, 2])
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters())
for x, y in []:
    outs = model(x)
    loss = sum(criterion(out, y[:, i]) for i, out in enumerate(outs))
    loss.backward()
    optimizer.step()
"""


def test_a_dict_of_per_head_softmaxes_handed_to_a_training_helper(tmp_path: Path) -> None:
    write_project(tmp_path, {"heads.py": HEADS, "fit.py": FIT, "main.py": BY_HELPER.format(cls="MultiHead")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 5)
    assert "every element of the container MultiHead's forward returns (heads.py:16)" in finding.message
    assert "hands it to `fit` (fit.py:15), which feeds it to CrossEntropyLoss" in finding.message


def test_a_list_comprehension_of_softmaxes_iterated_in_the_loss(tmp_path: Path) -> None:
    write_project(tmp_path, {"heads.py": HEADS, "main.py": INLINE.format(cls="ListHeads")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 10)
    assert "ListHeads's forward returns (heads.py:26)" in finding.message


@pytest.mark.parametrize("cls", ["LogitHeads", "MixedHeads"])
def test_heads_returning_logits_or_mixed_outputs_are_not_reported(tmp_path: Path, cls: str) -> None:
    write_project(tmp_path, {"heads.py": HEADS, "fit.py": FIT, "main.py": BY_HELPER.format(cls=cls)})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []


TRAINING_ONLY = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.softmax(self.fc(x))
        if {test}:
            return x
        else:
            return x.argmax(dim=1).to("cpu")


class Trainer:
    def __init__(self, model, optimizer, device):
        self.model = model.to(device)
        self.optimizer = optimizer

    def run_batch(self, audio, targets):
        logits = self.model(audio)
        loss = F.cross_entropy(logits, targets)
        loss.backward()
        self.optimizer.step()


model = Net()
trainer = Trainer(model, torch.optim.AdamW(model.parameters()), "cpu")
"""


def test_a_softmax_returned_only_in_training_mode_to_a_trainer_class(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": TRAINING_ONLY.format(test="self.training")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 27)
    assert "Net's output (line 10; in training mode (`self.training`))" in finding.message


def test_a_softmax_returned_only_in_eval_mode_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": TRAINING_ONLY.format(test="not self.training")})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []
