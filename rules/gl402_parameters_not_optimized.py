'''## What it does
Measured by `gradlint.preflight` on your real model and optimiser, and by the CLI's
probe on the optimiser your training script builds (its param groups rebuilt on the
probed model, when they can be read with certainty): flags trainable parameters that
receive a gradient but are in no param group of the optimiser. It is
reported where their module is created (a head replaced after the optimiser was built
is reported at the replacement).

## Why is this bad?
`optimizer.step()` only updates the tensors in its param groups. A module added or
replaced after `torch.optim.X(model.parameters())` was called (a new classification
head for fine-tuning, a layer attached in a callback) gets gradients on every backward
pass and never changes: the loss still falls a little through the other layers, so
nothing looks wrong until the accuracy does.

## Example
```python
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 16)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(self.body(x).relu())

def preflight_case():
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.head = nn.Linear(16, 3)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer)
```

## Use instead
```python
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 16)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(self.body(x).relu())

def preflight_case():
    model = Net()
    model.head = nn.Linear(16, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer)
```

## Options
None.

## References
- PyTorch documentation, `torch.optim`: "Constructing it ... give it an iterable containing
  the parameters"; `Optimizer.add_param_group` for parameters added later.
'''

from __future__ import annotations

from typing import Iterator

from gradlint.inprocess.facts import PreflightSummary, by_module_place, listed
from gradlint.registry import Invalid, Report, Valid

CODE = "GL402"
NAME = "parameters-not-optimized"
SEVERITY = "warning"
SUMMARY = "Measured: trainable parameters get gradients but are in no param group of the optimiser"
SCOPE = "preflight"
FIXABLE = False
OPTIONS: dict = {}

VALID = [
    # a frozen backbone left out of the optimiser on purpose: requires_grad is False
    Valid(
        """
import torch
import torch.nn as nn

def preflight_case():
    backbone = nn.Linear(8, 16)
    backbone.requires_grad_(False)
    head = nn.Linear(16, 4)
    model = nn.Sequential(backbone, nn.ReLU(), head)
    optimizer = torch.optim.AdamW(head.parameters(), lr=1e-3)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer)
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch
import torch.nn as nn

class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(8, 16)
        self.extra = nn.Linear(16, 16)
        self.classifier = nn.Linear(16, 5)

    def forward(self, x):
        return self.classifier(self.extra(self.encoder(x).tanh()))

def preflight_case():
    model = Tagger()
    optimizer = torch.optim.Adam([*model.encoder.parameters(), *model.classifier.parameters()], lr=1e-3)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer)
""",
        line=9,
        column=22,
        message="measured: 2 parameter(s) of Linear 'extra' get gradients but are in no param group",
    ),
]


def check(summary: PreflightSummary, options: dict) -> Iterator[Report]:
    if not summary.measured or summary.optimizer is None:
        return
    left_out = [p for p in summary.params if p.trainable and p.got_grad and p.group is None]
    for group in by_module_place(left_out):
        first = group[0]
        place = first.place or summary.place
        modules = list(dict.fromkeys(p.module for p in group))
        what = f"{first.module_type} '{first.module}'" if first.module else f"model '{summary.model}'"
        if len(modules) > 1:
            what += f" (and {len(modules) - 1} more module(s) made on this line)"
        message = (
            f"measured: {len(group)} parameter(s) of {what} get gradients but are in no param group of the "
            f"{summary.optimizer} optimiser ({listed([p.name for p in group])}), so step() never changes them; "
            "build the optimiser after the model's last change (a replaced head), or add them with "
            "optimizer.add_param_group({'params': ...})"
        )
        yield Report(place.filled(), message,
                     path=place.path, model=summary.model, evidence={"parameters": len(group)})
