"""## What it does
Reports a model whose structure gradlint could not see: `torch.fx` could not trace its
`forward` exactly, and running the real `forward` once on the probe's input to record
it as executed failed too (usually: no input could be built for it). The model is then
analysed as its module tree in registration order: weight layers, activation modules
and normalisation layers are still checked, but rules that need the real data flow
(GL101 saturating stacks, GL104 residual connections) are skipped. A model fx cannot
trace but whose forward runs (a loop over a tensor's rows, a Hugging Face transformer)
is not reported: its graph is the one recorded, "as executed for this input".

## Why is this bad?
It is not a gradient problem itself: it says the analysis of this model is partial,
so a missing GL101/GL104 finding means "not checked", not "fine". Branches on tensor
values (`if x.mean() > 0:`) stop tracing; a second input the probe cannot infer
(a `lengths` tensor) stops the recording. Give the input in the config
(`input = ["float32[8,4]", "int64[8](1,4)"]`) or an `example_input()` function.

## Example
```python
import torch.nn as nn

class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x, lengths):
        for _ in range(int(lengths.max())):
            x = self.fc(x)
        return x
```

## Use instead
```python
import torch
import torch.nn as nn

def example_input():
    return torch.randn(8, 4), torch.full((8,), 3)

class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x, lengths):
        for _ in range(int(lengths.max())):
            x = self.fc(x)
        return x
```

## Options
None.

## References
- [PyTorch: torch.fx limitations of symbolic tracing](https://pytorch.org/docs/stable/fx.html#limitations-of-symbolic-tracing)
"""

from __future__ import annotations

from typing import Iterator

from gradlint.model.outcome import ModelOutcome
from gradlint.registry import Invalid, Report, Valid

CODE = "GL003"
NAME = "not-traceable"
SEVERITY = "info"
SUMMARY = "Neither torch.fx nor a recorded forward gave the model's graph; analysis fell back to the module tree"
SCOPE = "model"
FIXABLE = False
OPTIONS: dict = {}
READS = "outcome"  # the analysis's outcome for every model, not its graph

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
    Valid(
        """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x[: int(x.abs().sum()) + 1])
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

    def forward(self, x, lengths):
        return self.fc(x[: int(lengths.max())])
""",
        line=4,
    ),
]


def check(summary: ModelOutcome, options: dict) -> Iterator[Report]:
    if summary.load_failure is not None or summary.recorded:
        return  # a model that failed to load is GL002's
    yield summary.report(
        f"model '{summary.name}' could not be traced with torch.fx nor recorded ({summary.trace_note}); analysed its "
        "module tree in registration order instead, so GL101 and GL104 were skipped; give its input "
        "(input = \"dtype[shape]\" in [[tool.gradlint.models]], or example_input()) to get the full analysis")
