'''## What it does
Measured by the probe (and by `gradlint.preflight` in your own run): flags trainable
parameters (`requires_grad=True`) that get no gradient from the first backward pass:
`.grad` stays `None`, or is all zero. It is reported where the parameters' module is
created in your code, and says why when the probe can tell:

- nothing the model outputs depends on them: a `.detach()`, `.data`, `torch.no_grad()`
  or an integer cast cuts them off, or `forward` never calls their module;
- with your own loss (`preflight(loss_fn=...)`, or the model's `output.loss`): the loss
  does not use the output they feed;
- their gradient is exactly zero on the batch (not counted when a zero-initialised
  weight or gate, such as a zero-init head or ReZero's `alpha`, blocks the first step on
  purpose).

With the CLI's synthetic loss, which uses only the first output of a model that returns
several, a parameter that feeds another output is not reported. The CLI probe runs the
traced graph, where a `torch.no_grad()` block is not recorded; `preflight` runs your own
`forward` and sees it.

## Why is this bad?
A parameter without a gradient never changes: the optimiser skips it (`grad is None`)
or moves it by nothing. The model trains with part of itself frozen by accident, and
nothing in the loss curve says so. A detached auxiliary branch, a head whose output the
loss never reads, or a module built but never called are common causes. PyTorch's own
`DistributedDataParallel` refuses such parameters by default for the same reason
(`find_unused_parameters`).

## Example
```python
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 16)
        self.aux = nn.Linear(16, 16)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        h = self.body(x)
        return self.head(h + self.aux(h).detach())
```

## Use instead
```python
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 16)
        self.aux = nn.Linear(16, 16)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        h = self.body(x)
        return self.head(h + self.aux(h))
```

## Options
None.

## References
- PyTorch documentation, `DistributedDataParallel(find_unused_parameters=...)`: parameters
  that do not receive gradients.
- PyTorch Autograd mechanics: "Excluding subgraphs from backward" (`requires_grad`, `no_grad`, `detach`).
'''

from __future__ import annotations

from typing import Iterator

from gradlint.probe.summary import ProbeSummary, entry_place
from gradlint.registry import Invalid, Report, Span, Valid

CODE = "GL401"
NAME = "parameters-without-gradient"
SEVERITY = "warning"
SUMMARY = "Measured: trainable parameters get no gradient from the backward pass"
SCOPE = "probe"
FIXABLE = False
OPTIONS: dict = {}

# the loss is the user's own: a parameter that feeds an output the loss ignores is reported too
USER_LOSSES = ("loss_fn(output, batch)", "the model's own loss")

VALID = [
    # a second output the synthetic loss does not read: not reported by the CLI probe
    Valid(
        """
import torch.nn as nn

class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 16)
        self.main = nn.Linear(16, 4)
        self.aux = nn.Linear(16, 2)

    def forward(self, x):
        h = self.body(x).relu()
        return self.main(h), self.aux(h)
"""
    ),
    # a zero-initialised head blocks the first step's gradient to the body on purpose
    Valid(
        """
import torch.nn as nn

def build():
    head = nn.Linear(32, 4)
    nn.init.zeros_(head.weight)
    return nn.Sequential(nn.Linear(16, 32), nn.Tanh(), head)
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
        self.body = nn.Linear(16, 16)
        self.unused = nn.Linear(16, 16)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(self.body(x).relu())
""",
        line=8,
    ),
    Invalid(
        """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(8, 16)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        h = self.embed(x).data
        return self.head(h)
""",
        line=8,
    ),
]


def _cause(entry: dict) -> str:
    if entry.get("grad") == "zero":
        return ("their gradient is exactly zero on this batch (what they compute reaches the loss only through "
                "values it discards, such as the patch tokens of a model pooled at x[:, 0])")
    if entry.get("called") is False:
        return "forward never calls this module"
    if not entry.get("reaches_output", True):
        return ("nothing the model outputs depends on them (forward never calls the module, or a .detach(), "
                ".data, torch.no_grad() or an integer cast cuts it off)")
    return "the loss does not use the output they feed"


def check(summary: ProbeSummary, options: dict) -> Iterator[Report]:
    user_loss = summary.loss in USER_LOSSES
    flagged = [e for e in summary.no_grad
               if e.get("grad") == "zero" or not e.get("reaches_output", True) or user_loss]
    by_module: dict[str, list[dict]] = {}
    for entry in flagged:
        by_module.setdefault(str(entry.get("module", "")), []).append(entry)
    by_line: dict[tuple, list[tuple[Span, list[dict]]]] = {}
    for entries in by_module.values():  # modules made in one loop share a line: one finding
        place = entry_place(entries[0], summary.place)
        by_line.setdefault((place.path, place.line), []).append((place, entries))
    for group in by_line.values():
        place, entries = group[0]
        module = entries[0].get("module") or ""
        names = [str(e.get("name")) for _, more_entries in group for e in more_entries]
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        what = f"{entries[0].get('type')} '{module}'" if module else f"model '{summary.model}'"
        more = f" (and {len(group) - 1} more module(s) reported at this line)" if len(group) > 1 else ""
        message = (
            f"measured: {len(names)} trainable parameter(s) of {what}{more} get no gradient ({shown}): "
            f"{_cause(entries[0])}; they will never learn. Connect them to the loss, or call "
            f"requires_grad_(False) on the module if it is meant to stay frozen"
        )
        yield Report(place, message,
                     path=place.path, model=summary.model, evidence={"parameters": len(names)})
