'''## What it does
Measured by `gradlint.preflight` with `steps >= 1`, and by the CLI's probe with
`--probe-steps 2` or more on the optimiser and param groups your training script builds:
runs the optimiser's `step()` on the measured gradients (preflight then restores
everything) and flags a param group whose
parameters have non-zero gradients but none of which the step changed: a learning rate
of 0, an update below the parameters' precision, or a step that skips them. A group at
lr 0 whose scheduler starts a warm-up from a higher `initial_lr` is not reported.

## Why is this bad?
Training then runs for hours and nothing learns. A learning rate read from a config key
that does not exist (`lr=cfg.get("learning_rate", 0)`), a schedule that multiplies it
down to 0, or a bfloat16 model whose updates round away are invisible until the loss
curve stays flat.

## Example
```python
import torch
import torch.nn as nn

def preflight_case():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer, steps=1)
```

## Use instead
```python
import torch
import torch.nn as nn

def preflight_case():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer, steps=1)
```

## Options
None.

## References
- PyTorch documentation, `torch.optim.Optimizer.step` and `param_groups` (per-group `lr`).
- Zhang et al. 2021, AUTOTRAINER: training problems that show only as a flat loss.
'''

from __future__ import annotations

from typing import Iterator

from gradlint.inprocess.facts import PreflightSummary
from gradlint.registry import Invalid, Report, Valid

CODE = "GL405"
NAME = "optimizer-step-no-op"
SEVERITY = "error"
SUMMARY = "Measured: an optimiser step changes no parameter (lr 0, or updates below precision)"
SCOPE = "preflight"
FIXABLE = False
OPTIONS: dict = {}

VALID = [
    # a warm-up from lr 0: the scheduler's initial_lr says the rate will rise
    Valid(
        """
import torch
import torch.nn as nn

def preflight_case():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: step / 100)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer, steps=1)
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch
import torch.nn as nn

def preflight_case():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    groups = [{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.0}]
    optimizer = torch.optim.Adam(groups, lr=1e-3)
    return dict(model=model, batch=torch.randn(4, 8), optimizer=optimizer, steps=1)
""",
        line=8,
        column=29,
        message="changed none of the 2 parameter(s) of param group 1 although they have non-zero gradients",
    ),
]


def check(summary: PreflightSummary, options: dict) -> Iterator[Report]:
    if not summary.measured or summary.optimizer is None or summary.steps < 1:
        return
    place = summary.optimizer_place or summary.place
    for group in summary.groups:
        members = [p for p in summary.params if p.group == group.index and p.trainable and p.got_grad]
        if not members or group.warmup_from_zero or any(p.changed for p in members):
            continue
        cause = ("its learning rate is 0" if group.lr == 0 else
                 f"with lr={group.lr:g} the update is below the parameters' precision or the step skipped them")
        message = (
            f"measured: {summary.optimizer}.step() changed none of the {len(members)} parameter(s) of param group "
            f"{group.index} although they have non-zero gradients: {cause}; nothing in this group will learn"
        )
        yield Report(place.filled(), message,
                     path=place.path, model=summary.model, evidence={"group": group.index, "lr": group.lr})
