"""## What it does
Reports a model that gradlint found (or was told about) but could not import, build,
trace or feed an input: an exception, a time-out, `sys.exit()`, a crash of the
worker process or a memory limit (torch missing from the environment is not a
finding about your code: the run prints one notice instead). The message
says why, how long it took, and what to add (a `[[tool.gradlint.models]]` entry with
`kwargs`, an `example_input()` function, or a larger `timeout`). A file that cannot
be imported is reported once, naming all of its models.

## Why is this bad?
A model that is not loaded is not checked: none of the structure rules (GL1xx) and
none of the measured ones (GL3xx) say anything about it, so a clean report would be
misleading. gradlint runs model code in a separate worker process, so one broken
model never stops the others.

## Example
```python
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        raise RuntimeError("weights file missing")
```

## Use instead
```python
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
```

## Options
None. The time limit per model is `[tool.gradlint] timeout` (seconds) and the
memory limit of the worker is `memory-limit` (MiB).

## References
- [PyTorch: `torch.nn.Module`](https://pytorch.org/docs/stable/generated/torch.nn.Module.html)
- [PyTorch: `torch.fx`](https://pytorch.org/docs/stable/fx.html)
"""

from __future__ import annotations

from typing import Any, Iterator

from gradlint.registry import Invalid, Report, Valid

CODE = "GL002"
NAME = "model-not-loaded"
SEVERITY = "warning"
SUMMARY = "A model could not be imported, built, traced or fed an input"
SCOPE = "model"
FIXABLE = False
OPTIONS: dict = {}

VALID = [
    Valid(
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
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
        self.fc = nn.Linear(4, 4) / 0
""",
        line=4,
    ),
    Invalid(
        """
import torch.nn as nn
import sys

def build():
    sys.exit(3)
""",
        line=5,
    ),
]


def check(summary: Any, options: dict) -> Iterator[Report]:
    """Failures are found by the worker and reported by gradlint.model.analyze."""
    return iter(())
