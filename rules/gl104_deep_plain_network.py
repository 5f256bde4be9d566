"""## What it does
Finds a model with 12 or more weight layers on one forward path and no residual or
skip connection along it (an add or concatenation joining paths of different depth,
counting both the longest and the shortest path into each input, so a concatenation
whose input already holds a weight-free pooling shortcut is one): the weight layers
between two residual merges count, so residual blocks joined by
short stage transitions without a shortcut (MobileNetV2, EfficientNet) are not reported.
A recurrent cell (`nn.GRUCell`...) stepped in a loop is one layer: its steps are time.
When the model normalises (BatchNorm, LayerNorm...) the threshold is 20: VGG-19 with
BatchNorm trains, a 34-layer plain network does not train as well as a shallower one.

## Why is this bad?
Without a skip path every gradient must pass through every layer, and the product of
their Jacobians shrinks or grows with depth. Residual connections give the gradient
an identity path (He et al. 2016): plain networks deeper than about 20 layers train
worse than shallower ones even with BatchNorm (the "degradation problem").

## Example
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(14):
        layers += [nn.Linear(64, 64), nn.ReLU()]
    return nn.Sequential(*layers)
```

## Use instead
```python
import torch.nn as nn

class Block(nn.Module):
    def __init__(self, width=64):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(self.fc1(x).relu())

def build():
    return nn.Sequential(*[Block() for _ in range(7)])
```

## Options
- `min-depth` (default 12): depth reported in a model without normalisation layers.
- `min-depth-normalized` (default 20): depth reported in a model with normalisation layers.

## References
- He et al., [Deep Residual Learning for Image Recognition](https://arxiv.org/abs/1512.03385), 2016
- Simonyan & Zisserman, [Very Deep Convolutional Networks](https://arxiv.org/abs/1409.1556), 2014
"""

from __future__ import annotations

from typing import Iterator

from gradlint.model.graph import ModelGraph
from gradlint.model.runs import MERGE, RunSpec, Step
from gradlint.probe.verdicts import confirm_when_signals_moved
from gradlint.registry import Invalid, Report, Valid

CODE = "GL104"
NAME = "deep-plain-network"
SEVERITY = "warning"
SUMMARY = "12 or more weight layers on one path with no residual/skip connection"
SCOPE = "model"
FIXABLE = False
OPTIONS = {"min-depth": 12, "min-depth-normalized": 20}


def _weight_layers(step: Step) -> int:
    layer = step.layer
    return layer.stack if layer is not None else 0  # a 2-layer nn.LSTM counts 2


# weight layers between residual merges; normalisation does not end a run
PLAIN = RunSpec(counts=_weight_layers, resets=frozenset({MERGE}))
RUNS = (PLAIN,)

# the probe confirms it when the backward norm fell (or grew) by 100x or more across the
# model, or the forward signal did
confirm = confirm_when_signals_moved

VALID = [
    Valid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(16):
        layers += [nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()]
    return nn.Sequential(*layers)
"""
    ),
    Valid(  # each cell concatenates a plain branch with one a weight-free pooling shortcut joins:
        # the gradient has a way around every cell's convolutions
        """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Cell(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.plain = nn.Conv2d(width, width, 3, padding=1)
        self.beside_pool = nn.Conv2d(width, width, 3, padding=1)
        self.mix = nn.Conv2d(2 * width, width, 1)

    def forward(self, x):
        a = F.relu(self.plain(x))
        b = F.relu(F.max_pool2d(x, 3, stride=1, padding=1) + self.beside_pool(x))
        return F.relu(self.mix(torch.cat([a, b], dim=1)))

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.cells = nn.Sequential(*[Cell() for _ in range(8)])

    def forward(self, x):
        return self.cells(x)
"""
    ),
]

INVALID = [
    Invalid(
        """
import torch.nn as nn

class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(16, 16) for _ in range(13)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).relu()
        return x
""",
        line=4,
    ),
]


def check(summary: ModelGraph, options: dict) -> Iterator[Report]:
    if not summary.traced:
        return  # residual merges are only seen in the graph; GL003 says it was skipped
    run = summary.run(PLAIN)
    normalised = bool(summary.norms)
    limit = options["min-depth-normalized"] if normalised else options["min-depth"]
    if run.count < limit:
        return
    layers = [summary.layers[i] for i in run.items]
    yield summary.report(
        None,
        f"model '{summary.name}' has {run.count} weight layers on one path with no residual/skip connection "
        f"({summary.label(layers[0])} to {summary.label(layers[-1])}){' even with normalisation' if normalised else ''}: "
        "add residual connections (x = x + block(x)) every 2-3 layers",
    )
