'''## What it does
Measured by the probe: flags a ReLU (module or `F.relu`/`torch.relu`) more than
`max-fraction` (default 0.5) of whose units are never active across the probe batch. A
unit is one output position of a sample; it is dead when it is zero for every sample.
A call whose live units are mostly on for *every* sample is not judged: the batch does
not vary there (a squeeze-excitation block pools noise images to nearly one vector), so
each unit is on for all samples or for none and "never active" reads chance. A layer
whose every unit is off is still judged.

## Why is this bad?
A dead ReLU passes no gradient, so the weights feeding it never change again: large
negative biases, a too-large learning rate or an input scale far off push units into
the negative region for good. AUTOTRAINER treats a zero-gradient fraction above 0.7 as
dying ReLU during training; before training, half of the units dead is already a
problem. Calibration (`python bench/probe_zoo.py`, 24 models known to train: timm at
224x224, transformers at small configs, pytorch-cifar at 32x32, batch 8): the largest
dead fraction was 0.39 (MobileNetV3-small) outside squeeze-excitation blocks, whose
ReLUs read 0.50-0.75 before they were left unjudged (27 findings on one timm helper line).

## Example
```python
import torch.nn as nn

def build():
    first = nn.Linear(32, 64)
    nn.init.constant_(first.bias, -5.0)
    return nn.Sequential(first, nn.ReLU(), nn.Linear(64, 4))
```

## Use instead
```python
import torch.nn as nn

def build():
    first = nn.Linear(32, 64)
    nn.init.zeros_(first.bias)
    return nn.Sequential(first, nn.ReLU(), nn.Linear(64, 4))
```

## Options
- `max-fraction` (float, default 0.5): the largest allowed fraction of dead units.

## References
- Lu et al. 2019, Dying ReLU and Initialization: Theory and Numerical Examples.
- AUTOTRAINER (Zhang et al., ICSE 2021): dying ReLU above a 0.7 zero-gradient fraction.
'''

from __future__ import annotations

from typing import Iterator

from gradlint.probe.summary import ProbeSummary, fmt
from gradlint.registry import Invalid, Report, Valid

CODE = "GL304"
NAME = "dead-relu"
SEVERITY = "warning"
SUMMARY = "Measured: most ReLU units are never active on the probe batch"
SCOPE = "probe"
FIXABLE = False
OPTIONS = {"max-fraction": 0.5}

VALID = [
    Valid(
        """
import torch.nn as nn

def build():
    return nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 4))
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        nn.init.constant_(self.fc1.bias, -5.0)
        self.fc2 = nn.Linear(64, 4)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
""",
        line=13,
        column=25,
        message="of the units of relu 'relu' are never active on the probe batch (threshold 50%)",
    ),
]


def check(summary: ProbeSummary, options: dict) -> Iterator[Report]:
    limit = float(options["max-fraction"])
    flagged = [act for act in summary.activations if act.kind == "relu" and act.dead is not None and act.dead > limit]
    by_line: dict[tuple, list] = {}
    for act in flagged:  # activations made in one loop share a line: one finding, the worst
        by_line.setdefault((act.place.path, act.place.line), []).append(act)
    for group in by_line.values():
        act = max(group, key=lambda a: a.dead)
        more = f" (and {len(group) - 1} more made on this line)" if len(group) > 1 else ""
        place = act.place
        message = (
            f"measured: {fmt(100 * act.dead)}% of the units of {act.type} '{act.name}' are never active on the "
            f"probe batch{more} (threshold {fmt(100 * limit)}%), so their weights get no gradient; check the biases and "
            f"init of the layer before it, or use LeakyReLU/GELU"
        )
        yield Report(place, message,
                     path=place.path, model=summary.model, evidence={"fraction": act.dead})
