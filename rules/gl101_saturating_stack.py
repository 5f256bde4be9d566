"""## What it does
Finds three or more sigmoid/tanh-family activations on one forward path of a model
with no normalisation layer and no residual merge between them. It reads the traced
graph, so activation modules (`nn.Sigmoid()`), functions (`torch.sigmoid`, `F.tanh`)
and methods (`x.tanh()`) all count. A sigmoid at the output head (no weight layer
after it), sigmoids that only gate a product (`x * torch.sigmoid(g)`, a highway
layer's `h * t + x * (1 - t)`) and the gates inside `nn.LSTM`/`nn.GRU` do not count.
With the probe, the finding is confirmed when a hidden sigmoid/tanh is more than 30%
saturated or the backward norm falls by 100x from the largest layer to the earliest.

## Why is this bad?
The derivative of the sigmoid is at most 0.25 and that of tanh at most 1, and both
are near 0 once a unit saturates. Backpropagation multiplies these factors layer by
layer, so the gradient reaching the first layers shrinks geometrically with the
number of stacked saturating activations (Glorot & Bengio 2010). Measured: a
10-layer sigmoid MLP passes 1e-8 of the gradient to its first layer.

## Example
```python
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(32, 32), nn.Sigmoid(),
            nn.Linear(32, 32), nn.Sigmoid(),
            nn.Linear(32, 32), nn.Sigmoid(),
            nn.Linear(32, 10),
        )

    def forward(self, x):
        return self.body(x)
```

## Use instead
```python
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(32, 32), nn.ReLU(),
            nn.Linear(32, 32), nn.ReLU(),
            nn.Linear(32, 32), nn.ReLU(),
            nn.Linear(32, 10),
        )

    def forward(self, x):
        return self.body(x)
```

## Options
- `min-count` (default 3): how many saturating activations on one path are reported.

## References
- Glorot & Bengio, [Understanding the difficulty of training deep feedforward neural networks](https://proceedings.mlr.press/v9/glorot10a.html), 2010
- Ioffe & Szegedy, [Batch Normalization](https://arxiv.org/abs/1502.03167), 2015
"""

from __future__ import annotations

from typing import Iterator

from gradlint.model.graph import ModelGraph
from gradlint.findings import Confirmation
from gradlint.model.runs import GATES, HEADS, NORM, RunSpec, Step
from gradlint.probe.summary import ProbeSummary
from gradlint.probe.verdicts import backward_fell, evidence, verdict
from gradlint.registry import Invalid, Report, Valid

CODE = "GL101"
NAME = "saturating-stack"
SEVERITY = "warning"
SUMMARY = "Three or more sigmoid/tanh activations on one path with no normalisation or residual between them"
SCOPE = "model"
FIXABLE = False
OPTIONS = {"min-count": 3}


def _saturating(step: Step) -> int:
    activation = step.activation
    return int(activation is not None and activation.family == "saturating")


# sigmoid/tanh activations with no normalisation between them; at a residual merge the
# gradient takes the skip path, whose run is the shorter
SATURATING = RunSpec(counts=_saturating, resets=frozenset({NORM}), excluded=frozenset({HEADS, GATES}))
RUNS = (SATURATING,)
SATURATION_CONFIRM = 0.3  # the probe confirms a stack when a hidden sigmoid/tanh is this saturated

VALID = [
    Valid(
        """
import torch
import torch.nn as nn

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 16)
        self.fc2 = nn.Linear(16, 16)
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return torch.sigmoid(self.out(x))
"""
    ),
    Valid(
        """
import torch
import torch.nn as nn

class Normed(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(16, 16) for _ in range(4)])
        self.norms = nn.ModuleList([nn.LayerNorm(16) for _ in range(4)])

    def forward(self, x):
        for layer, norm in zip(self.layers, self.norms):
            x = norm(torch.tanh(layer(x)))
        return x
"""
    ),
    Valid(
        """
import torch
import torch.nn as nn

class Gated(nn.Module):
    def __init__(self):
        super().__init__()
        self.value = nn.ModuleList([nn.Linear(16, 16) for _ in range(4)])
        self.gate = nn.ModuleList([nn.Linear(16, 16) for _ in range(4)])

    def forward(self, x):
        for value, gate in zip(self.value, self.gate):
            x = value(x) * torch.sigmoid(gate(x))
        return x
"""
    ),
]

INVALID = [
    Invalid(
        """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)
        self.fc3 = nn.Linear(8, 8)
        self.fc4 = nn.Linear(8, 2)

    def forward(self, x):
        x = torch.sigmoid(self.fc1(x))
        x = self.fc2(x).tanh()
        x = F.sigmoid(self.fc3(x))
        return self.fc4(x)
""",
        line=15,
        column=13,
        message="3 saturating activations (sigmoid/tanh) on one forward path",
    ),
    Invalid(
        """
import torch.nn as nn

def build():
    layers = []
    for _ in range(6):
        layers += [nn.Linear(8, 8), nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(8, 1))
""",
        line=7,
    ),
]


def check(summary: ModelGraph, options: dict) -> Iterator[Report]:
    if not summary.traced:
        return  # needs the data flow; GL003 says it was skipped
    run = summary.run(SATURATING)
    if run.count < options["min-count"]:
        return
    items = [summary.activations[i] for i in run.items]
    names = summary.labels(items)
    kinds = "/".join(sorted({a.type.lower() for a in items}))
    yield summary.report(
        items[0],
        f"{run.count} saturating activations ({kinds}) on one forward path with no normalisation or "
        f"residual between them: {names}; gradients shrink at each one. Use ReLU/GELU in hidden layers, "
        "or add LayerNorm/BatchNorm or skip connections between them",
    )


def confirm(probe: ProbeSummary, measured: frozenset[str]) -> Confirmation:
    """Confirmed when some non-head sigmoid/tanh is more than 30% saturated, or the
    backward norm (GL301's) fell by 100x or more from the largest layer to the earliest."""
    saturated = evidence(probe).get("max_saturated_fraction") or 0.0
    return verdict(saturated > SATURATION_CONFIRM or backward_fell(probe), probe)
