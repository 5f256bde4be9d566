"""## What it does
Finds a model with 12 or more weight layers on its longest forward path and no
normalisation layer at all (BatchNorm, LayerNorm, GroupNorm, InstanceNorm, RMSNorm,
a hand-written `*Norm` module or `F.layer_norm`-style call). A recurrent cell
(`nn.GRUCell`...) stepped in a loop is one layer: its steps are time, not depth.

## Why is this bad?
Without normalisation nothing keeps the scale of activations and gradients in check
across layers: small init or weight drift compounds with depth, and training depends
on a perfectly tuned init and learning rate (Ioffe & Szegedy 2015). Normalisation
layers re-centre and re-scale at each layer, which keeps deep networks trainable.

## Example
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(12):
        layers += [nn.Conv2d(16, 16, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers)
```

## Use instead
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(12):
        layers += [nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()]
    return nn.Sequential(*layers)
```

## Options
- `min-depth` (default 12): the longest path length reported.

## References
- Ioffe & Szegedy, [Batch Normalization](https://arxiv.org/abs/1502.03167), 2015
- Ba et al., [Layer Normalization](https://arxiv.org/abs/1607.06450), 2016
"""

from __future__ import annotations

from typing import Iterator

from gradlint.model.graph import ModelGraph
from gradlint.probe.verdicts import confirm_when_signals_moved
from gradlint.registry import Invalid, Report, Valid

CODE = "GL105"
NAME = "deep-without-normalization"
SEVERITY = "warning"
SUMMARY = "12 or more weight layers on the longest path and no normalisation layer"
SCOPE = "model"
FIXABLE = False
OPTIONS = {"min-depth": 12}

# the probe confirms it when the backward norm fell (or grew) by 100x or more across the
# model, or the forward signal did
confirm = confirm_when_signals_moved

VALID = [
    Valid(
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(16, 16) for _ in range(13)])
        self.norm = nn.LayerNorm(16)

    def forward(self, x):
        for layer in self.layers:
            x = self.norm(layer(x).relu())
        return x
"""
    ),
]

INVALID = [
    Invalid(
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(16, 16) for _ in range(13)])

    def forward(self, x):
        for layer in self.layers:
            x = x + layer(x).relu()
        return x
""",
        line=4,
    ),
]


def check(summary: ModelGraph, options: dict) -> Iterator[Report]:
    if summary.norms or summary.longest_path < options["min-depth"]:
        return
    yield summary.report(
        None,
        f"model '{summary.name}' has {summary.longest_path} weight layers on its longest path and no "
        "normalisation layer: add BatchNorm (convolutions) or LayerNorm (MLPs, transformers) after the "
        "weight layers or at the start of each block",
    )
