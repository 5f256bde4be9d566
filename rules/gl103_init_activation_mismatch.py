"""## What it does
Finds runs of layers initialised with Xavier/Glorot whose output feeds a ReLU-family
activation, 8 or more on one path with no normalisation or residual between them.
The initialisation is read from the built model's weights (Xavier: std
`sqrt(2/(fan_in+fan_out))`; Kaiming: `sqrt(2/fan_in)`). With the option
`kaiming-with-saturating` it also reports Kaiming-initialised layers feeding
sigmoid/tanh. PyTorch's default init is GL102's. SELU is left alone: its prescribed
init, LeCun normal (std `1/sqrt(fan_in)`), is Xavier's on a square layer.

## Why is this bad?
Xavier keeps the variance for activations symmetric around zero (tanh); ReLU drops
half of it, so each Xavier+ReLU layer halves the signal's variance and deep stacks
collapse: measured on a width-256 ReLU MLP, the last hidden layer's scale is 1e-3 of
the input at depth 20 and 3e-8 at depth 50, while the weight-gradient ratios still
look fine. He et al. (2015) report a 30-layer ReLU network with Xavier init that does
not train at all; Kaiming init fixes it. (Kaiming with tanh is only a flag: measured
tanh stacks train fine with it, so it is off by default.)

## Example
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(10):
        linear = nn.Linear(64, 64)
        nn.init.xavier_normal_(linear.weight)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 1))
```

## Use instead
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(10):
        linear = nn.Linear(64, 64)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 1))
```

## Options
- `min-depth` (default 8): how many mismatched layers on one path are reported.
- `kaiming-with-saturating` (default false): also report Kaiming init feeding sigmoid/tanh.

## References
- He et al., [Delving Deep into Rectifiers](https://arxiv.org/abs/1502.01852), 2015
- Glorot & Bengio, [Understanding the difficulty of training deep feedforward neural networks](https://proceedings.mlr.press/v9/glorot10a.html), 2010
"""

from __future__ import annotations

from typing import Callable, Iterator

from gradlint.model.graph import ModelGraph
from gradlint.model.runs import NORM, RunSpec, Step
from gradlint.probe.verdicts import confirm_when_signals_moved
from gradlint.registry import Invalid, Report, Valid

CODE = "GL103"
NAME = "init-activation-mismatch"
SEVERITY = "warning"
SUMMARY = "Xavier init feeding ReLU (or Kaiming feeding tanh/sigmoid) through a deep stack"
SCOPE = "model"
FIXABLE = False
OPTIONS = {"min-depth": 8, "kaiming-with-saturating": False}

# activations whose prescribed init has Xavier's scale: SELU wants LeCun normal,
# std 1/sqrt(fan_in), which is Xavier's on a square layer (Klambauer et al. 2017)
XAVIER_SCALED = frozenset({"selu"})


def _feeds(init: str, family: str) -> Callable[[Step], int]:
    """Counts a layer initialised with ``init`` whose output feeds a ``family`` activation
    (not an output head, not one whose prescribed init is Xavier's)."""

    def counts(step: Step) -> int:
        layer, act = step.layer, step.following
        return int(layer is not None and layer.init == init and act is not None
                   and act.family == family and act.type.lower() not in XAVIER_SCALED)

    return counts


# mismatched layers with no normalisation between them (the skip path's run at a merge)
XAVIER_RELU = RunSpec(counts=_feeds("xavier", "relu"), resets=frozenset({NORM}))
KAIMING_SATURATING = RunSpec(counts=_feeds("kaiming", "saturating"), resets=frozenset({NORM}))
RUNS = (XAVIER_RELU, KAIMING_SATURATING)

# the probe confirms it when the backward norm fell (or grew) by 100x or more across the
# model, or the forward signal did
confirm = confirm_when_signals_moved

VALID = [
    Valid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(10):
        linear = nn.Linear(64, 64)
        nn.init.xavier_uniform_(linear.weight)
        layers += [linear, nn.Tanh()]
    return nn.Sequential(*layers)
"""
    ),
    Valid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(10):
        linear = nn.Linear(64, 64)
        nn.init.xavier_uniform_(linear.weight)
        layers += [linear, nn.LayerNorm(64), nn.ReLU()]
    return nn.Sequential(*layers)
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
        self.layers = nn.ModuleList()
        for _ in range(9):
            self.layers.append(nn.Linear(64, 64))
        for layer in self.layers:
            nn.init.xavier_normal_(layer.weight)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).relu()
        return x
""",
        line=9,
    ),
    Invalid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(9):
        linear = nn.Linear(64, 64)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        layers += [linear, nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(64, 1))
""",
        line=7,
        options=(("kaiming-with-saturating", True),),
    ),
]


def check(summary: ModelGraph, options: dict) -> Iterator[Report]:
    runs = [(summary.run(XAVIER_RELU), "Xavier/Glorot", "ReLU-family",
             "nn.init.kaiming_normal_(w, nonlinearity='relu')")]
    if options["kaiming-with-saturating"]:
        runs.append((summary.run(KAIMING_SATURATING), "Kaiming", "sigmoid/tanh",
                     "nn.init.xavier_normal_(w, gain=nn.init.calculate_gain('tanh'))"))
    for run, init, family, fix in runs:
        if run.count < options["min-depth"]:
            continue
        layers = [summary.layers[i] for i in run.items]
        act = summary.activations[summary.facts.following[run.items[0]]]
        yield summary.report(
            layers[0],
            f"{run.count} layers initialised with {init} feed {family} activations ({act.type}) on one path "
            f"with no normalisation or residual between them, from {summary.label(layers[0])} to {summary.label(layers[-1])}: "
            f"the signal scale drifts at every layer; initialise them with {fix}",
        )
