'''## What it does
Measured by the probe: flags a model whose forward signal, the RMS of a weight
layer's output, falls below `min-ratio` (default 1e-3) or rises above `max-ratio`
(default 1e3) times the first weight layer's at some deeper weight layer. The finding
points at the layer where it is farthest from the first's. (Not simply the deepest:
an output head's own bias puts a floor under its output that hides the collapse
in the layers before it.) A layer called several times (a block reused in a loop) is
judged by each call's output, not their RMS together, which the first call dominates.

The forward signal shows what weight-gradient norms hide: with Xavier init in a deep
ReLU net every layer halves the variance, so the output scale collapses (about 1e-3
after 20 layers, MEASURED.md) while each weight's gradient, the input scale times the
backward signal, stays level. A layer that was deliberately zero-initialised is left out.

## Why is this bad?
A collapsed signal means the deep layers see almost constant inputs and the backward
signal shrinks in step (He et al. 2015: a 30-layer ReLU net with Xavier init does not
train); an exploding one saturates the loss and overflows in half precision.

## Example
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(30):
        layer = nn.Linear(64, 64)
        nn.init.xavier_normal_(layer.weight)
        nn.init.zeros_(layer.bias)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 10))
```

## Use instead
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(30):
        layer = nn.Linear(64, 64)
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 10))
```

## Options
- `min-ratio` (float, default 1e-3): the smallest allowed ratio of a deeper layer's output scale to the first's.
- `max-ratio` (float, default 1e3): the largest allowed ratio.

## References
- He et al. 2015, Delving Deep into Rectifiers: Surpassing Human-Level Performance on ImageNet Classification.
- Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward neural networks.
'''

from __future__ import annotations

from typing import Iterator

from gradlint.probe.summary import ProbeSummary, fmt
from gradlint.registry import Invalid, Report, Valid

CODE = "GL305"
NAME = "signal-collapse"
SEVERITY = "warning"
SUMMARY = "Measured: the forward signal collapses or explodes from the first layer to a deeper one"
SCOPE = "probe"
FIXABLE = False
OPTIONS = {"min-ratio": 1e-3, "max-ratio": 1e3}

VALID = [
    Valid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(30):
        layer = nn.Linear(32, 32)
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(32, 4))
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(30):
        layer = nn.Linear(32, 32)
        nn.init.xavier_normal_(layer.weight)
        nn.init.zeros_(layer.bias)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(32, 4))
""",
        line=7,
    ),
    Invalid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(12):
        layer = nn.Linear(32, 32)
        nn.init.normal_(layer.weight, std=0.8)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers)
""",
        line=7,
    ),
]


def check(summary: ProbeSummary, options: dict) -> Iterator[Report]:
    found = summary.forward_ratio()
    if found is None:
        return
    ratio, first, extreme = found
    if float(options["min-ratio"]) <= ratio <= float(options["max-ratio"]):
        return
    what = "collapses" if ratio < 1 else "explodes"
    fix = ("use init that keeps the variance (Kaiming for ReLU, Xavier for tanh) or add normalisation"
           if ratio < 1 else "scale the init down (Kaiming/Xavier) or add normalisation")
    place = extreme.place
    reference = first.first_forward or 0.0
    span = extreme.forward_signal_span
    calls = f", one of its {int(span[3])} calls" if span else ""
    message = (
        f"measured: the forward signal {what} from '{first.name}' to '{extreme.name}' ({extreme.type}{calls}): "
        f"output scale {fmt(ratio * reference)} vs {fmt(reference)}, a ratio of {fmt(ratio)}; {fix}"
    )
    yield Report(place, message,
                 path=place.path, model=summary.model, evidence={"ratio": ratio})
