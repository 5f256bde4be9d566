"""## What it does
Checks loops that accumulate gradients (the optimiser `step()` only every k > 1
micro-batches, as GL207 reads them) and flags gradient clipping
(`torch.nn.utils.clip_grad_norm_`/`clip_grad_value_`, a model's or Lightning's
`clip_gradients`) that runs on every micro-batch instead of once, right before the step.
A clip inside the step branch, or under a test that follows the iteration
(`if accelerator.sync_gradients:`, `if is_last_micro_batch:`), is not flagged; a test of a
setting that no iteration changes (`if clip_grad:`, `if args.max_grad_norm > 0:`) does not
stop the clip from running on every micro-batch, and is flagged (without a fix). Loops
under `accelerator.accumulate(model)` are left alone.

## Why is this bad?
During accumulation `.grad` holds a partial sum. Clipping it after each micro-batch
rescales the micro-batches seen so far, so the first micro-batches of a window are
shrunk again and again and the last one counts the most: the step follows a re-weighted
gradient, not the window's. On a window of four micro-batches that each push a different
weight equally (`max_norm=0.1`), the update's cosine with the window's gradient is 0.52
instead of 1.0 (measured in `tests/test_accumulation_order_rules.py`). It also costs a
norm over every parameter per micro-batch. The PyTorch AMP examples unscale and clip
once per window, on the iterations that step; the pytorch-transformers examples had
this bug (huggingface/transformers#986, #1563).

## Example
```python
for i, (x, y) in enumerate(loader):
    (criterion(model(x), y) / accum_steps).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    if (i + 1) % accum_steps == 0:
        optimizer.step()
        optimizer.zero_grad()
```

## Use instead
```python
for i, (x, y) in enumerate(loader):
    (criterion(model(x), y) / accum_steps).backward()
    if (i + 1) % accum_steps == 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
```

## Options
None.

## References
- [PyTorch AMP examples: gradient accumulation](https://pytorch.org/docs/stable/notes/amp_examples.html#gradient-accumulation) (unscale and clip once per window)
- [`torch.nn.utils.clip_grad_norm_`](https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html)
- [huggingface/transformers#1563: grad clipping is not correct when gradient accumulation is enabled](https://github.com/huggingface/transformers/issues/1563)
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import make_fix, move_before, source, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.accumulation import Accumulation, find_accumulation
from gradlint.source.loops import CLIP, STEP, UNSCALE, Event, Scope, TrainingSummary
from gradlint.source.micro_batches import per_micro_batch, step_block

from .support.other_places import step_place

CODE = "GL208"
NAME = "clip-per-micro-batch"
SEVERITY = "warning"
SUMMARY = "Gradients are clipped on every micro-batch of an accumulation window instead of once before the step"
SCOPE = "loop"
FIXABLE = True
OPTIONS: dict = {}

VALID = [
    Valid(  # AMP: unscale_ and clip once, in the step branch
        """
for i, (x, y) in enumerate(loader):
    scaler.scale(criterion(model(x), y) / k).backward()
    if (i + 1) % k == 0:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
"""
    ),
    Valid(  # Accelerate: the clip under sync_gradients, inside accumulate()
        """
for batch in loader:
    with accelerator.accumulate(model):
        accelerator.backward(model(**batch).loss)
        if accelerator.sync_gradients:
            accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # no accumulation: a clip every iteration is right
        """
for x, y in loader:
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
"""
    ),
    Valid(  # nanoGPT: the clip after the micro-batch loop
        """
while True:
    for micro_step in range(accum_steps):
        scaler.scale(model(X, Y)[1] / accum_steps).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
"""
    ),
    Valid(  # a test that follows the window (a flag set by the accumulation wrapper), not a setting
        """
for i, batch in enumerate(loader):
    accelerator.backward(model(**batch).loss / k)
    if accelerator.sync_gradients:
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
    if (i + 1) % k == 0:
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # after `continue` skips the micro-batches that only accumulate
        """
for i, (x, y) in enumerate(loader):
    (criterion(model(x), y) / k).backward()
    if (i + 1) % k != 0:
        continue
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad()
"""
    ),
]
INVALID = [
    Invalid(
        """
for i, (x, y) in enumerate(loader):
    (criterion(model(x), y) / accum_steps).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    if (i + 1) % accum_steps == 0:
        optimizer.step()
        optimizer.zero_grad()
""",
        line=4,
        fixed="""
for i, (x, y) in enumerate(loader):
    (criterion(model(x), y) / accum_steps).backward()
    if (i + 1) % accum_steps == 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
""",
    ),
    Invalid(  # AMP: the clip goes after the branch's unscale_
        """
from torch.nn.utils import clip_grad_value_
for step, batch in enumerate(loader):
    scaler.scale(model(**batch).loss / k).backward()
    clip_grad_value_(model.parameters(), 0.5)
    if step % k == k - 1:
        scaler.unscale_(optimizer)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
""",
        line=5,
        fixed="""
from torch.nn.utils import clip_grad_value_
for step, batch in enumerate(loader):
    scaler.scale(model(**batch).loss / k).backward()
    if step % k == k - 1:
        scaler.unscale_(optimizer)
        clip_grad_value_(model.parameters(), 0.5)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
""",
    ),
    Invalid(  # inside nanoGPT's micro-batch loop
        """
while True:
    for micro_step in range(grad_accum):
        (model(X, Y)[1] / grad_accum).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad()
""",
        line=5,
        fixed="""
while True:
    for micro_step in range(grad_accum):
        (model(X, Y)[1] / grad_accum).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad()
""",
    ),
    Invalid(  # Lightning manual optimisation with accumulation
        """
class Lit(LightningModule):
    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        self.manual_backward(self.loss(batch) / 4)
        self.clip_gradients(opt, gradient_clip_val=1.0, gradient_clip_algorithm="norm")
        if (batch_idx + 1) % 4 == 0:
            opt.step()
            opt.zero_grad()
""",
        line=6,
        fixed="""
class Lit(LightningModule):
    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        self.manual_backward(self.loss(batch) / 4)
        if (batch_idx + 1) % 4 == 0:
            self.clip_gradients(opt, gradient_clip_val=1.0, gradient_clip_algorithm="norm")
            opt.step()
            opt.zero_grad()
""",
    ),
    Invalid(  # under a setting that no iteration changes: still every micro-batch (no fix: the test stays)
        """
for step, (x, y) in enumerate(loader):
    scaler.scale(criterion(model(x), y) / accum).backward()
    if clip_grad:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
    if step % accum == 0:
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
""",
        line=6,
    ),
    Invalid(  # a counter window; the clip's result is used, so it is reported without a fix
        """
micro = 0
for x, y in loader:
    (criterion(model(x), y) / 8).backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    micro += 1
    if micro == 8:
        optimizer.step()
        optimizer.zero_grad()
        micro = 0
    log(norm)
""",
        line=5,
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    for scope in summary.scopes:
        window = find_accumulation(scope)
        if window is None:
            continue
        for clip in scope.of(CLIP):
            if not per_micro_batch(scope, window, clip, flags=True):
                continue
            count = source(summary.unit, window.count) if window.count is not None else "k"
            step = window.step.receiver or "optimizer"
            span = summary.unit.span(clip.via or clip.node)
            yield Report(
                span,
                f"gradients are clipped on every micro-batch, but {step} steps only every {count} "
                f"micro-batches (line {getattr(window.step.node, 'lineno', 0)}): each clip rescales a partial sum; "
                f"clip once per window, right before the step",
                fix=_fix(summary, scope, window, clip),
                related=step_place(step, count, getattr(window.step.node, "lineno", 0), span),
            )


def _fix(summary: TrainingSummary, scope: Scope, window: Accumulation, clip: Event) -> Optional[Fix]:
    own = clip.own
    if clip.via is not None or clip.guards or clip.contexts or not standalone(summary.unit, own):
        return None
    if not (isinstance(own, ast.Expr) and own.value is clip.node):
        return None  # `norm = clip_grad_norm_(...)`: the norm is used where it stands
    block = step_block(scope, window)
    if block is None or own in block:
        return None
    inside = [e for e in scope.events if e.own is not None and any(s is e.own for s in block)]
    steps = [e for e in inside if e.kind == STEP]
    if len(steps) != 1 or any(e.kind == CLIP for e in inside):
        return None
    if any(e.kind == UNSCALE and per_micro_batch(scope, window, e) for e in scope.events):
        return None  # unscale_ on every micro-batch too: the pair needs moving, a judgement call
    unscales = [e for e in inside if e.kind == UNSCALE]
    anchor = steps[0].own
    if unscales:
        assert unscales[-1].own is not None
        position = next(i for i, s in enumerate(block) if s is unscales[-1].own)
        anchor = block[position + 1] if position + 1 < len(block) else None
    if anchor is None:
        return None
    moved = move_before(summary.unit, own, anchor)
    if moved is None:
        return None
    where = "after unscale_, " if unscales else ""
    return make_fix(f"move the clip into the step branch, {where}right before the step", *moved)
