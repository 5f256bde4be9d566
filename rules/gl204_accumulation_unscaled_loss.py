"""## What it does
Checks loops that accumulate gradients (`backward()` on every micro-batch, the
optimiser `step()` only under `if (i + 1) % k == 0`, `if step % k == k - 1`, after
`if (i + 1) % k != 0: continue` placed after every `backward()` (a `continue` ahead of
the backward skips batches instead), a counter reaching `k`, or after an inner
`for micro_step in range(k)` loop as in nanoGPT) and flags a loss that reaches
`backward()` without being divided by the number of micro-batches. Every spelling of
the division before `backward()` counts: `loss = loss / k`, `loss /= k`,
`loss = criterion(...) / k`, `(loss / k).backward()`, `scaler.scale(loss / k)`,
`amp.scale_loss(loss / k, ...)`, `loss.div_(k)`. A division written after `backward()` comes too late
unless nothing in the loop body assigns the loss ahead of `backward()`: then the one at
the body's end (a prefetch loop) or before the loop is the loss backpropagated.
Rescaling the gradients between `backward()` and the step counts too: `/=`, `*=`,
`div_` or `mul_` on a name ending in `.grad` (`p.grad /= k`, `p.grad.data.div_(k)`), or
a call whose whole name is `scale_grads`, `div_grads`, `scale_gradients` and the like
(torchtune's `scale_grads(model, 1 / num_tokens)`). Loops under
`accelerator.accumulate(model)`, and `accelerator.backward` with
`Accelerator(gradient_accumulation_steps=k)`, are left alone: Accelerate divides the
loss itself.

## Why is this bad?
Gradients add up in `.grad` across the k backward calls, so without the division
the step uses k times the gradient of one batch. With SGD that is a k× larger
learning rate; with any optimiser it changes the clipping threshold's meaning and,
for large k, produces the spikes of an exploding-gradient run.

## Example
```python
for i, (x, y) in enumerate(loader):
    loss = criterion(model(x), y)
    loss.backward()
    if (i + 1) % accumulation_steps == 0:
        optimizer.step()
        optimizer.zero_grad()
```

## Use instead
```python
for i, (x, y) in enumerate(loader):
    loss = criterion(model(x), y)
    (loss / accumulation_steps).backward()
    if (i + 1) % accumulation_steps == 0:
        optimizer.step()
        optimizer.zero_grad()
```

## Options
None.

## References
- [Hugging Face Accelerate: gradient accumulation](https://huggingface.co/docs/accelerate/usage_guides/gradient_accumulation)
- [PyTorch AMP examples: gradient accumulation](https://pytorch.org/docs/stable/notes/amp_examples.html#gradient-accumulation)
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import is_simple, make_fix, replace, source, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.accumulation import (
    ACCELERATE, Accumulation, backward_loss, dividing_helpers, find_accumulation, loss_is_divided,
)
from gradlint.source.loops import BACKWARD, Event, TrainingSummary
from gradlint.source.names import dotted

from .support.other_places import step_place

CODE = "GL204"
NAME = "accumulation-unscaled-loss"
SEVERITY = "error"
SUMMARY = "Gradient accumulation with a loss that is not divided by the number of micro-batches"
SCOPE = "loop"
FIXABLE = True
OPTIONS: dict = {}

VALID = [
    Valid(
        """
for i, (x, y) in enumerate(loader):
    loss = criterion(model(x), y)
    loss = loss / accum
    loss.backward()
    if (i + 1) % accum == 0:
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(
        """
for step, batch in enumerate(loader):
    loss = model(**batch).loss / args.gradient_accumulation_steps
    scaler.scale(loss).backward()
    if step % args.gradient_accumulation_steps == 0:
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
"""
    ),
    Valid(  # Accelerate scales the loss itself
        """
for batch in loader:
    with accelerator.accumulate(model):
        accelerator.backward(model(**batch).loss)
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # a step every iteration; the modulo test only logs
        """
for i, (x, y) in enumerate(loader):
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    if i % 100 == 0:
        print(loss.item())
"""
    ),
    Valid(  # the main optimiser steps every iteration; a second one every other
        """
for i, (x, y) in enumerate(loader):
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    if i % 2 == 0:
        ema_optimizer.step()
"""
    ),
    Valid(
        """
count = 0
for x, y in loader:
    loss = criterion(model(x), y)
    loss /= k
    loss.backward()
    count += 1
    if count == k:
        optimizer.step()
        optimizer.zero_grad()
        count = 0
"""
    ),
    Valid(  # several tasks' losses summed before one step: not accumulation
        """
for x, y in loader:
    optimizer.zero_grad()
    for task in range(num_tasks):
        criterion(model(x, task), y[task]).backward()
    optimizer.step()
"""
    ),
]
INVALID = [
    Invalid(
        """
for i, (x, y) in enumerate(loader):
    loss = criterion(model(x), y)
    loss.backward()  # accumulate
    if (i + 1) % accum_steps == 0:
        optimizer.step()
        optimizer.zero_grad()
""",
        line=4,
        fixed="""
for i, (x, y) in enumerate(loader):
    loss = criterion(model(x), y)
    (loss / accum_steps).backward()  # accumulate
    if (i + 1) % accum_steps == 0:
        optimizer.step()
        optimizer.zero_grad()
""",
    ),
    Invalid(
        """
scaler = torch.cuda.amp.GradScaler()
for step, batch in enumerate(train_loader):
    with torch.autocast("cuda"):
        loss = model(**batch).loss
    scaler.scale(loss).backward()
    is_update_step = (step + 1) % cfg.grad_accum == 0
    if is_update_step:
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
""",
        line=6,
        fixed="""
scaler = torch.cuda.amp.GradScaler()
for step, batch in enumerate(train_loader):
    with torch.autocast("cuda"):
        loss = model(**batch).loss
    scaler.scale(loss / cfg.grad_accum).backward()
    is_update_step = (step + 1) % cfg.grad_accum == 0
    if is_update_step:
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
""",
    ),
    Invalid(
        """
micro = 0
for x, y in loader:
    criterion(model(x), y).backward()
    micro += 1
    if micro >= 8:
        optimizer.step()
        optimizer.zero_grad()
        micro = 0
""",
        line=4,
        fixed="""
micro = 0
for x, y in loader:
    (criterion(model(x), y) / 8).backward()
    micro += 1
    if micro >= 8:
        optimizer.step()
        optimizer.zero_grad()
        micro = 0
""",
    ),
    Invalid(  # nanoGPT without the division
        """
while True:
    for micro_step in range(gradient_accumulation_steps):
        logits, loss = model(X, Y)
        X, Y = get_batch("train")
        scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
""",
        line=6,
        fixed="""
while True:
    for micro_step in range(gradient_accumulation_steps):
        logits, loss = model(X, Y)
        X, Y = get_batch("train")
        scaler.scale(loss / gradient_accumulation_steps).backward()
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
""",
    ),
    Invalid(  # the last micro-batch of each window: step % accum == accum - 1
        """
for step, (x, y) in enumerate(loader):
    criterion(model(x), y).backward()
    if step % accum == accum - 1:
        optimizer.step()
        optimizer.zero_grad()
""",
        line=3,
    ),
    Invalid(  # divided only after backward(), for logging
        """
for i, (x, y) in enumerate(loader):
    loss = criterion(model(x), y)
    loss.backward()
    loss = loss / accum
    if (i + 1) % accum == 0:
        optimizer.step()
        optimizer.zero_grad()
""",
        line=4,
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    helpers = None
    divisors: Optional[set[str]] = None
    for scope in summary.scopes:
        window = find_accumulation(scope)
        if window is None or window.kind == ACCELERATE:
            continue
        if helpers is None:
            helpers = dividing_helpers(summary.unit.tree)  # type: ignore[arg-type]
        if divisors is None:
            divisors = _in_place_divisors(summary)
        if window.count is not None and ast.dump(window.count) in divisors:
            continue  # bucket.buffer().div_(accumulation_steps) in a DDP communication hook
        for event in scope.of(BACKWARD):
            if _accelerate_divides(summary, event) or loss_is_divided(scope, event, summary.unit.tree, helpers):  # type: ignore[arg-type]
                continue
            count = source(summary.unit, window.count) if window.count is not None else "k"
            span = summary.unit.span(event.node)
            yield Report(
                span,
                f"gradients accumulate over {count} micro-batches (step on line {window.step.node.lineno}) "
                f"but the loss passed to backward() is not divided by {count}: each update is "
                f"{count} times too large; divide the loss by {count}",
                fix=_fix(summary, event, window),
                related=step_place(window.step.receiver, count, window.step.node.lineno, span),
            )


def _in_place_divisors(summary: TrainingSummary) -> set[str]:
    """What the file divides by in place (``.div_(k)``), once per file: gradients rescaled
    outside the loop, in an all-reduce hook or a helper, by the window's count."""
    return {
        ast.dump(node.args[0])
        for node in ast.walk(summary.unit.tree)  # type: ignore[arg-type]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "div_"
        and len(node.args) == 1 and _is_gradient_buffer(node.func.value)
    }


def _is_gradient_buffer(receiver: ast.expr) -> bool:
    """``bucket.buffer()`` (a DDP communication hook's gradients) or ``p.grad``; not a
    logged ``grad_norm``."""
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute):
        return receiver.func.attr == "buffer"
    return (dotted(receiver) or "").endswith(".grad")


def _accelerate_divides(summary: TrainingSummary, event: Event) -> bool:
    return summary.names.kind_of(event.receiver) == "accelerator" and summary.facts.accelerate_divides_loss


def _fix(summary: TrainingSummary, event: Event, window: Accumulation) -> Optional[Fix]:
    loss = backward_loss(event)
    if event.via is not None or loss is None or not standalone(summary.unit, event.own):
        return None
    if window.count is None or not is_simple(window.count) or isinstance(loss, ast.Starred):
        return None
    count = source(summary.unit, window.count)
    text = f"{source(summary.unit, loss)} / {count}"
    call = event.node
    receiver_position = isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.value is loss
    if receiver_position or isinstance(loss, (ast.BinOp, ast.BoolOp, ast.IfExp, ast.Compare, ast.Lambda, ast.NamedExpr)):
        text = f"({text})"
    return make_fix(f"divide the loss by {count}", replace(summary.unit, loss, text))
