"""## What it does
Checks that gradient clipping (`clip_grad_norm_`, `clip_grad_value_`,
`accelerator.clip_grad_norm_`, …) runs between `backward()` and the optimiser's
`step()` of the same iteration.

## Why is this bad?
Clipping only changes the gradients the next `step()` uses. Clipping *before*
`backward()` clips gradients that are about to be cleared or overwritten, and
clipping *after* `step()` clips gradients that were already applied: either way the
update is unclipped and the protection against exploding gradients (Pascanu et al.
2013) is silently gone.

## Example
```python
for x, y in loader:
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
```

## Use instead
```python
for x, y in loader:
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
```

## Options
None.

## References
- Pascanu, Mikolov, Bengio, "On the difficulty of training recurrent neural networks", ICML 2013
- [`torch.nn.utils.clip_grad_norm_`](https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html)
"""

from __future__ import annotations

from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import make_fix, move_before, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.clearing import Closure, closure_of
from gradlint.source.loops import BACKWARD, CLIP, STEP, Event, Scope, TrainingSummary

CODE = "GL202"
NAME = "clip-misplaced"
SEVERITY = "error"
SUMMARY = "Gradient clipping runs before backward() or after step(), where it has no effect"
SCOPE = "loop"
FIXABLE = True
OPTIONS: dict = {}

VALID = [
    Valid(
        """
from torch.nn.utils import clip_grad_norm_ as clip
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    clip(model.parameters(), 1.0)
    optimizer.step()
"""
    ),
    Valid(
        """
scaler = torch.cuda.amp.GradScaler()
for x, y in loader:
    optimizer.zero_grad()
    scaler.scale(loss_fn(model(x), y)).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_value_(model.parameters(), 0.5)
    scaler.step(optimizer)
    scaler.update()
"""
    ),
    Valid(
        """
for i, (x, y) in enumerate(loader):
    loss = loss_fn(model(x), y) / 4
    loss.backward()
    if (i + 1) % 4 == 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch
for x, y in loader:
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # too early
    loss.backward()
    optimizer.step()
""",
        line=6,
        fixed="""
import torch
for x, y in loader:
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # too early
    optimizer.step()
""",
    ),
    Invalid(
        """
from torch import nn
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
""",
        line=7,
        fixed="""
from torch import nn
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
""",
    ),
    Invalid(  # accumulation: the clip belongs inside the update block
        """
import torch
for i, (x, y) in enumerate(loader):
    (loss_fn(model(x), y) / 4).backward()
    if (i + 1) % 4 == 0:
        optimizer.step()
        norm = torch.nn.utils.clip_grad_norm_(
            model.parameters(), max_norm=1.0
        )
        optimizer.zero_grad()
""",
        line=7,
        fixed="""
import torch
for i, (x, y) in enumerate(loader):
    (loss_fn(model(x), y) / 4).backward()
    if (i + 1) % 4 == 0:
        norm = torch.nn.utils.clip_grad_norm_(
            model.parameters(), max_norm=1.0
        )
        optimizer.step()
        optimizer.zero_grad()
""",
    ),
    Invalid(
        """
for batch in loader:
    optimizer.zero_grad()
    accelerator.backward(model(**batch).loss)
    optimizer.step()
    accelerator.clip_grad_norm_(model.parameters(), 1.0)
""",
        line=6,
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    for scope in summary.scopes:
        events = scope.events
        for index, event in enumerate(events):
            if event.kind != CLIP:
                continue
            before = {e.kind for e in events[:index]}
            after = {e.kind for e in events[index + 1 :]}
            if BACKWARD not in before:
                where = "before backward()"
            elif STEP not in after:
                where = "after step()"
            else:
                continue
            span = summary.unit.span(event.node)
            closure = _closure_step(summary, scope)
            advice = "move it between backward() and step()" if closure is None else (
                f"move it into {getattr(closure, 'name', 'the closure')}(), after backward(): "
                "step(closure) runs the backward pass itself")
            yield Report(
                span,
                f"gradient clipping runs {where}, so the optimiser steps on unclipped gradients; {advice}",
                fix=None if closure is not None else _fix(summary, scope, event),
            )


def _closure_step(summary: TrainingSummary, scope: Scope) -> Optional[Closure]:
    """The closure of an ``optimizer.step(closure)`` (LBFGS): moving a clip before that
    step would move it before the backward pass the closure runs."""
    for step in scope.of(STEP):
        closure = closure_of(scope, step, summary.unit.tree)
        if closure is not None:
            return closure
    return None


def _fix(summary: TrainingSummary, scope: Scope, clip: Event) -> Optional[Fix]:
    """Move the clip statement to just before the (single) step, when both stand alone."""
    steps, backwards = scope.of(STEP), scope.of(BACKWARD)
    if len(steps) != 1 or not backwards or len(scope.of(CLIP)) != 1:
        return None
    step = steps[0]
    if clip.via is not None or step.via is not None or scope.events.index(step) < scope.events.index(backwards[-1]):
        return None
    if clip.own is None or step.own is None or not (standalone(summary.unit, clip.own) and standalone(summary.unit, step.own)):
        return None
    if clip.own is step.own:
        return None
    return make_fix("move the clip between backward() and step()", *(move_before(summary.unit, clip.own, step.own) or (None,)))

