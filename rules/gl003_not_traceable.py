"""## What it does
Reports a model whose `forward` `torch.fx` could not trace, even after gradlint's
fallbacks (conditions on traced values assumed true, failing submodules kept whole).
The model is then analysed as its module tree in registration order: weight layers,
activation modules and normalisation layers are still checked, but rules that need
the real data flow (GL101 saturating stacks, GL104 residual connections) are skipped.

## Why is this bad?
It is not a gradient problem itself: it says the analysis of this model is partial,
so a missing GL101/GL104 finding means "not checked", not "fine". Branches on tensor
values (`if x.mean() > 0:`) and Python loops over tensor contents are what usually
stop tracing.

## Example
```python
import torch.nn as nn

class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        for row in x:
            x = self.fc(x)
        return x
```

## Use instead
```python
import torch.nn as nn

class Gate(nn.Module):
    def __init__(self, steps=4):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.steps = steps

    def forward(self, x):
        for _ in range(self.steps):
            x = self.fc(x)
        return x
```

## Options
None.

## References
- [PyTorch: torch.fx limitations of symbolic tracing](https://pytorch.org/docs/stable/fx.html#limitations-of-symbolic-tracing)
"""

from __future__ import annotations

from typing import Any, Iterator

from gradlint.registry import Invalid, Report, Valid

CODE = "GL003"
NAME = "not-traceable"
SEVERITY = "info"
SUMMARY = "torch.fx could not trace the model; analysis fell back to the module tree"
SCOPE = "model"
FIXABLE = False
OPTIONS: dict = {}

VALID = [
    Valid(
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        assert x.size(1) == 4
        return self.fc(x)
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
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x[: int(x.sum())])
""",
        line=4,
    ),
]


def check(summary: Any, options: dict) -> Iterator[Report]:
    """Set by gradlint.model.analyze when the worker could not trace the model."""
    return iter(())
