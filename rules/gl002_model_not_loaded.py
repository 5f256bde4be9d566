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

from typing import Iterator

from gradlint.model.outcome import LoadFailure, ModelOutcome, duration
from gradlint.registry import Invalid, Report, Valid

CODE = "GL002"
NAME = "model-not-loaded"
SEVERITY = "warning"
SUMMARY = "A model could not be imported, built, traced or fed an input"
SCOPE = "model"
FIXABLE = False
OPTIONS: dict = {}
READS = "outcome"  # the analysis's outcome for every model, not its graph

_STAGE_WORDS = {
    "import": "imported", "build": "built", "trace": "traced", "analyse": "analysed",
    "probe": "probed", "start": "loaded",
}

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


def check(summary: ModelOutcome, options: dict) -> Iterator[Report]:
    failure = summary.load_failure
    if failure is not None and failure.same_as is None:  # a file's shared import failure: said once
        yield summary.report(_load_message(summary, failure))
    probe = summary.probe_failure
    if probe is not None:
        yield summary.report(f"model '{summary.name}' could not be probed ({probe.kind}, "
                             f"{duration(probe.seconds)}): {probe.message}")


def _load_message(outcome: ModelOutcome, failure: LoadFailure) -> str:
    if failure.others:  # the same import failure for every model of the file
        names = [f"'{name}'" for name in (outcome.name, *failure.others)]
        listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        subject = f"{len(names)} models ({listed})"
    else:
        subject = f"model '{outcome.name}'"
    message = f"{subject} could not be {_STAGE_WORDS.get(failure.stage, failure.stage)}: {failure.reason}"
    if not failure.timeout:  # a time-out's reason already says how long
        message += f" ({duration(failure.seconds)})"
    entry = f"{outcome.path}:{outcome.entry}"
    if failure.timeout:
        hint = "raise [tool.gradlint] timeout, or move slow module-level code under `if __name__ == \"__main__\":`"
    elif failure.stage == "import":
        hint = "fix the import, or exclude the file from model analysis with --no-exec"
    elif failure.stage == "build" and outcome.entry_kind in ("class", "factory"):
        hint = (f"add [[tool.gradlint.models]] entry = \"{entry}\" with kwargs, "
                "or a zero-argument build() factory")
    elif failure.stage == "build" and "argument" in failure.reason:
        # a configured or --model entry whose constructor wants arguments it was not given
        hint = f"give its arguments as kwargs in the [[tool.gradlint.models]] entry for \"{entry}\""
    else:
        hint = "fix the model code, or select it away with --ignore GL002"
    return f"{message}; {hint}"
