"""## What it does
Checks training loops for a learning-rate scheduler's `step()` that runs before the
optimiser's `step()` in the same iteration: in the loop body ahead of
`optimizer.step()` (or `scaler.step(optimizer)`), or at the top of an epoch loop ahead of
the batch loop that steps the optimiser. Only schedulers from `torch.optim.lr_scheduler`
and their kind (a `...LR` class, `get_*_schedule*` factories such as transformers'
`get_linear_schedule_with_warmup`, a scheduler passed in as a parameter) are read, and
only a bare `step()`: `step(epoch)` or `step(metric)` sets its value explicitly, and
schedulers of other libraries (timm's `step(epoch)`, a class of the project that is not an
`LRScheduler`) have their own contract. A scheduler class of the project's own modules
(`from utils.schedules import WarmupCosine`) is read through its imports: it counts when
it subclasses `LRScheduler`/`_LRScheduler` (or a `...LR` class), directly or through
other project classes, and keeps the base's `step()` (one of its own, which sets the coming
update's rate from the optimiser's count, has its own contract). A scheduler stepped under `if epoch > 0:` /
`if i > 0:` is deferred on purpose and not flagged.

## Why is this bad?
Since PyTorch 1.1 a scheduler's `step()` belongs after `optimizer.step()`. Called
before it, the first value of the schedule is never used, and every update runs with
the learning rate meant for the next one: a warm-up starts one step in, a step decay
comes one epoch early. PyTorch warns about it at run time ("Detected call of
`lr_scheduler.step()` before `optimizer.step()`"), once, where it is easy to miss. The
effect is small on long runs, so the rule is informational.

## Example
```python
for x, y in loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    scheduler.step()
    optimizer.step()
```

## Use instead
```python
for x, y in loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    scheduler.step()
```

## Options
None.

## References
- [PyTorch: How to adjust learning rate](https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate) (the order changed in 1.1.0)
- [`torch.optim.lr_scheduler.LRScheduler`](https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.LRScheduler.html)
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import make_fix, move_after, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.branches import exclusive
from gradlint.source.loops import (
    LOOP_NODES, SCALER_UPDATE, SCHEDULER_STEP, STEP, Event, EventCollector, Scope, TrainingSummary, helper_functions,
)
from gradlint.source.micro_batches import parent_block
from gradlint.source.names import dotted
from gradlint.source.project_classes import base_names, built_class, lineage

from .support.other_places import other_place

CODE = "GL209"
NAME = "scheduler-before-step"
SEVERITY = "info"
SUMMARY = "The learning-rate scheduler steps before the optimiser in the same iteration"
SCOPE = "loop"
FIXABLE = True
OPTIONS: dict = {}

VALID = [
    Valid(
        """
import torch
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    scheduler.step()
"""
    ),
    Valid(  # an explicit epoch or a metric sets the value: nothing is skipped
        """
for epoch in range(90):
    scheduler.step(epoch)
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    plateau.step(val_loss)
"""
    ),
    Valid(  # deferred on purpose: the step of the previous iteration comes first
        """
for i, (x, y) in enumerate(loader):
    if i > 0:
        scheduler.step()
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
"""
    ),
    Valid(  # a class of the file that is no LRScheduler: it sets the rate for the coming step
        """
class WarmupSchedule:
    def __init__(self, optimizer):
        self.optimizer = optimizer
    def step(self):
        ...

schedule = WarmupSchedule(optimizer)
for x, y in loader:
    schedule.step()
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
"""
    ),
]
INVALID = [
    Invalid(
        """
import torch
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=1000)
for x, y in loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    scheduler.step()  # per batch
    optimizer.step()
""",
        line=7,
        column=5,
        message="scheduler.step() runs before optimizer.step() (line 8)",
        fixed="""
import torch
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=1000)
for x, y in loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    scheduler.step()  # per batch
""",
    ),
    Invalid(  # AMP: after scaler.update()
        """
for batch in loader:
    lr_scheduler.step()
    optimizer.zero_grad()
    scaler.scale(model(**batch).loss).backward()
    scaler.step(optimizer)
    scaler.update()
    log(loss)
""",
        line=3,
        fixed="""
for batch in loader:
    optimizer.zero_grad()
    scaler.scale(model(**batch).loss).backward()
    scaler.step(optimizer)
    scaler.update()
    lr_scheduler.step()
    log(loss)
""",
    ),
    Invalid(  # the pre-1.1 order: at the start of each epoch, before the batch loop steps
        """
import torch
scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [30, 60])
for epoch in range(90):
    scheduler.step()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
""",
        line=5,
    ),
    Invalid(  # a scheduler class of the project's own package, an LRScheduler through its base
        """
from utils.schedules import WarmupCosine

scheduler = WarmupCosine(optimizer, warmup=500)
for x, y in loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    scheduler.step()
    optimizer.step()
""",
        line=8,
        files=(
            ("utils/__init__.py", ""),
            ("utils/base.py", "from torch.optim.lr_scheduler import _LRScheduler\n\n"
                              "class CosineBase(_LRScheduler):\n    pass\n"),
            ("utils/schedules.py", "from .base import CosineBase\n\nclass WarmupCosine(CosineBase):\n"
                                   "    def __init__(self, optimizer, warmup):\n"
                                   "        self.warmup = warmup\n        super().__init__(optimizer)\n"),
        ),
        fixed="""
from utils.schedules import WarmupCosine

scheduler = WarmupCosine(optimizer, warmup=500)
for x, y in loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    scheduler.step()
""",
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    reported: set[int] = set()
    for scope in summary.scopes:
        for index, event in enumerate(scope.events):
            if not _bare_lr_step(summary, event) or id(event.node) in reported:
                continue
            step = _first_step_after(summary, scope.events, index)
            if step is None:
                continue
            reported.add(id(event.node))
            yield _report(summary, event, step, "in the same iteration", _fix(summary, scope, event, step))
    for scope in _epoch_loops(summary):
        for index, event in enumerate(scope.events):
            if event.loop_depth or event.guards or not _bare_lr_step(summary, event) or id(event.node) in reported:
                continue
            step = _first_step_after(summary, scope.events, index)
            if step is None or not step.loop_depth:
                continue
            reported.add(id(event.node))
            yield _report(summary, event, step, "at the start of each epoch")


def _report(summary: TrainingSummary, event: Event, step: Event, where: str, fix: Optional[Fix] = None) -> Report:
    """The finding at the scheduler's step, its other place the optimiser's step it runs before."""
    optimizer = step.receiver or "optimizer"
    line = getattr(step.node, "lineno", 0)
    span = summary.unit.span(event.via or event.node)
    return Report(span, (
        f"{event.receiver}.step() runs before {optimizer}.step() (line {line}) {where}: "
        f"the schedule's first learning rate is skipped and each update uses the next one; "
        f"call {event.receiver}.step() after {optimizer}.step()"
    ), fix=fix, related=other_place(line, f"`{optimizer}.step()` runs here, after `{event.receiver}.step()`", span))


def _bare_lr_step(summary: TrainingSummary, event: Event) -> bool:
    """A torch-style learning-rate scheduler's ``step()`` with no epoch or metric given."""
    call = event.node
    if event.kind != SCHEDULER_STEP or not isinstance(call, ast.Call) or call.args or call.keywords:
        return False
    if any(_deferred(guard) for guard in event.guards):
        return False
    binding = summary.names.bindings.get(event.receiver or "")
    if binding is None or binding.call is None:
        return True  # passed in: a torch scheduler unless it says otherwise
    callee = binding.call
    last = callee.rsplit(".", 1)[-1]
    assert summary.unit.tree is not None
    found = built_class(binding.node, callee, summary.unit.tree, Path(summary.unit.path), summary.facts.project_files)
    if found is not None:  # a class of this file or of a project module: its bases say what it is
        chain = lineage(found, summary.facts.project_files)
        if any(_own_step(c.node) for c in chain):
            return False  # its own step() (the next update's rate from the optimiser's count): its own contract
        return any(base.rsplit(".", 1)[-1].endswith(("LR", "LRScheduler")) for base in base_names(chain))
    return (
        "lr_scheduler" in callee
        or last.endswith("LR")
        or (last.startswith("get_") and "schedule" in last)
    )


def _own_step(cls: ast.ClassDef) -> bool:
    """The class defines ``step()`` without handing on to the base's (``super().step()``)."""
    for method in cls.body:
        if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and method.name == "step":
            return not any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "step"
                and isinstance(n.func.value, (ast.Call, ast.Name)) for n in ast.walk(method)
            )
    return False


def _deferred(guard: ast.expr) -> bool:
    """``if i > 0:`` / ``if epoch != 0:`` / ``if step >= 1:``: not on the first iteration."""
    if not (isinstance(guard, ast.Compare) and len(guard.ops) == 1):
        return False
    bound = guard.comparators[0]
    value = bound.value if isinstance(bound, ast.Constant) else None
    op = guard.ops[0]
    return (isinstance(op, (ast.Gt, ast.NotEq)) and value == 0) or (isinstance(op, ast.GtE) and value == 1)


def _scheduled_optimizer(summary: TrainingSummary, scheduler: Optional[str]) -> Optional[str]:
    binding = summary.names.bindings.get(scheduler or "")
    if binding is None or not isinstance(binding.node, ast.Call):
        return None
    call = binding.node
    argument = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "optimizer"), None)
    return dotted(argument) if argument is not None else None


def _first_step_after(summary: TrainingSummary, events: list[Event], index: int) -> Optional[Event]:
    """The step of the scheduled optimiser that follows ``events[index]`` with none before it."""
    scheduler = events[index]
    steps = [e for e in events if e.kind == STEP and not exclusive(e, scheduler)]
    optimizer = _scheduled_optimizer(summary, scheduler.receiver)
    receivers = {e.receiver for e in steps}
    if optimizer not in receivers:
        if len(receivers) != 1:
            return None  # several optimisers and no telling which one it schedules
        optimizer = next(iter(receivers))
    mine = [e for e in steps if e.receiver == optimizer]
    if any(events.index(e) < index for e in mine):
        return None
    return next((e for e in mine if events.index(e) > index), None)


def _epoch_loops(summary: TrainingSummary) -> list[Scope]:
    """Loops around a scope's loop (or around a call of a helper holding one) that are no scope themselves."""
    tree = summary.unit.tree
    assert tree is not None
    own = {id(scope.node) for scope in summary.scopes}
    collector = EventCollector(summary.names, helper_functions(tree))
    found = []
    for loop in ast.walk(tree):
        if not isinstance(loop, LOOP_NODES) or id(loop) in own:
            continue
        events = collector.collect_scope(loop.body)
        if any(e.kind == SCHEDULER_STEP and not e.loop_depth for e in events) and any(
            e.kind == STEP and e.loop_depth for e in events
        ):
            found.append(Scope("for", loop, events))
    return found


def _fix(summary: TrainingSummary, scope: Scope, scheduler: Event, step: Event) -> Optional[Fix]:
    own = scheduler.own
    if scheduler.via is not None or step.via is not None or not standalone(summary.unit, own) or step.own is None:
        return None
    if not (isinstance(own, ast.Expr) and own.value is scheduler.node and standalone(summary.unit, step.own)):
        return None
    block = parent_block(scope.node, own)
    if block is None or not any(s is step.own for s in block):
        return None  # the step sits in a branch or loop of its own: where the scheduler belongs is a choice
    anchor = step.own
    position = next(i for i, s in enumerate(block) if s is step.own)
    if position + 1 < len(block) and any(e.kind == SCALER_UPDATE and e.own is block[position + 1] for e in scope.events):
        anchor = block[position + 1]
    moved = move_after(summary.unit, own, anchor)
    return make_fix(f"call {scheduler.receiver}.step() after {step.receiver}.step()", *moved) if moved else None
