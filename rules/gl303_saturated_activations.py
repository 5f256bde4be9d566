'''## What it does
Measured by the probe: flags a sigmoid- or tanh-family activation (module or function)
more than `max-fraction` (default 0.3) of whose outputs on the probe batch are
saturated, i.e. within 0.01 of the function's asymptotes (sigmoid below 0.01 or above
0.99, tanh beyond ±0.99), where its derivative is under 4% of its maximum. An output
head (no weight layer after it) is left out: a final sigmoid is meant to saturate.

## Why is this bad?
A saturated unit passes almost no gradient, so every layer below it learns slowly or
not at all; Glorot & Bengio (2010) show sigmoid top layers saturating at init with
standard initialisation, which normalised (Xavier) init or batch normalisation removes.

## Example
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(6):
        layer = nn.Linear(64, 64)
        nn.init.normal_(layer.weight, std=1.0)
        layers += [layer, nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(64, 10))
```

## Use instead
```python
import torch.nn as nn

def build():
    layers = []
    for _ in range(6):
        layer = nn.Linear(64, 64)
        nn.init.xavier_normal_(layer.weight)
        layers += [layer, nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(64, 10))
```

## Options
- `max-fraction` (float, default 0.3): the largest allowed fraction of saturated outputs.

## References
- Glorot & Bengio 2010, Understanding the difficulty of training deep feedforward neural networks.
- Ioffe & Szegedy 2015, Batch Normalization.
'''

from __future__ import annotations

from typing import Iterator

from gradlint.probe.summary import ProbeSummary, fmt
from gradlint.registry import Invalid, Report, Valid

CODE = "GL303"
NAME = "saturated-activations"
SEVERITY = "warning"
SUMMARY = "Measured: many sigmoid/tanh outputs are saturated"
SCOPE = "probe"
FIXABLE = False
OPTIONS = {"max-fraction": 0.3}

VALID = [
    Valid(
        """
import torch.nn as nn

def build():
    return nn.Sequential(nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 32), nn.Sigmoid(), nn.Linear(32, 4))
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        nn.init.normal_(self.fc1.weight, std=2.0)
        self.fc2 = nn.Linear(64, 4)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))
""",
        line=13,
    ),
]


def check(summary: ProbeSummary, options: dict) -> Iterator[Report]:
    limit = float(options["max-fraction"])
    flagged = [act for act in summary.activations if act.kind in ("sigmoid", "tanh") and not act.head and act.saturated is not None and act.saturated > limit]
    by_line: dict[tuple, list] = {}
    for act in flagged:  # activations made in one loop share a line: one finding, the worst
        by_line.setdefault((act.place.path, act.place.line), []).append(act)
    for group in by_line.values():
        act = max(group, key=lambda a: a.saturated)
        more = f" (and {len(group) - 1} more made on this line)" if len(group) > 1 else ""
        place = act.place
        message = (
            f"measured: {fmt(100 * act.saturated)}% of the outputs of {act.type} '{act.name}' are saturated{more} "
            f"(threshold {fmt(100 * limit)}%), so little gradient passes; use Xavier init for the layer before it, "
            f"add normalisation before the activation, or a non-saturating activation"
        )
        yield Report(place, message,
                     path=place.path, model=summary.model, evidence={"fraction": act.saturated})
