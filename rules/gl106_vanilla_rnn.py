"""## What it does
Finds `nn.RNN` and `nn.RNNCell` layers (the plain Elman recurrence) in a model.
With the probe, the finding is confirmed when a measured rule fired on the model or
its signals moved by 100x; quiet numbers leave it not probed, never refuted, since the
probe measures across layers on a short sequence and the risk runs through time.

## Why is this bad?
Backpropagation through time multiplies the gradient by the recurrent weight matrix
(and the tanh derivative) once per time step, so over long sequences it vanishes when
the matrix's largest singular value is below 1 and explodes when it is above
(Pascanu et al. 2013). LSTM and GRU cells add a gated, additive path through time that
keeps gradients alive over hundreds of steps. If you keep the vanilla RNN, clip
gradients by norm.

## Example
```python
import torch.nn as nn

class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(32, 64, batch_first=True)
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h)
```

## Use instead
```python
import torch.nn as nn

class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(32, 64, batch_first=True)
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h)
```

## Options
None.

## References
- Pascanu et al., [On the difficulty of training recurrent neural networks](https://arxiv.org/abs/1211.5063), 2013
- Hochreiter & Schmidhuber, Long Short-Term Memory, 1997
"""

from __future__ import annotations

from typing import Iterator

from gradlint.findings import Confirmation
from gradlint.model.graph import ModelGraph
from gradlint.probe.summary import ProbeSummary
from gradlint.probe.verdicts import evidence, signals_moved
from gradlint.registry import Invalid, Report, Valid

CODE = "GL106"
NAME = "vanilla-rnn"
SEVERITY = "warning"
SUMMARY = "nn.RNN/nn.RNNCell: gradients vanish or explode over long sequences; use LSTM/GRU"
SCOPE = "model"
FIXABLE = False
OPTIONS: dict = {}
TIME_NOT_MEASURED = ("the probe measures across layers on a short sequence, not through time: "
                     "nothing it measured confirms or rules out vanishing over long sequences")

VALID = [
    Valid(
        """
import torch.nn as nn

class LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        self.rnn = nn.GRU(32, 32, batch_first=True)
        self.out = nn.Linear(32, 100)

    def forward(self, ids):
        h, _ = self.rnn(self.embed(ids))
        return self.out(h)
"""
    ),
]

INVALID = [
    Invalid(
        """
import torch
import torch.nn as nn

class Loop(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.RNNCell(
            8, 8, nonlinearity="relu"
        )

    def forward(self, x):
        h = torch.zeros_like(x)
        for _ in range(5):
            h = self.cell(x, h)
        return h
""",
        line=8,
        column=21,
        message="'cell' is a vanilla nn.RNNCell",
    ),
]


def check(summary: ModelGraph, options: dict) -> Iterator[Report]:
    for layer in summary.layers:
        if layer.type in ("RNN", "RNNCell"):
            yield summary.report(
                layer,
                f"{summary.label(layer)} is a vanilla nn.{layer.type}: its gradient through time is multiplied by the "
                "recurrent weights at every step and vanishes or explodes over long sequences; use nn.LSTM or "
                "nn.GRU (or clip gradients by norm)",
            )


def confirm(probe: ProbeSummary, measured: frozenset[str]) -> Confirmation:
    """Confirmed when any GL3xx rule fired on the model or the signals moved by 100x.
    Quiet numbers leave it not-probed, not refuted: its risk runs through time inside the
    recurrent layer, and the probe compares layers over a short synthetic sequence."""
    numbers = evidence(probe)
    if measured or signals_moved(probe):
        return Confirmation("confirmed", numbers)
    return Confirmation("not-probed", {**numbers, "reason": TIME_NOT_MEASURED})
