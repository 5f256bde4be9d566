"""## What it does
Checks loops that train with a `GradScaler` (`scaler.scale(loss).backward()`) and
clip gradients with `torch.nn.utils.clip_grad_norm_`/`clip_grad_value_`: the clip must
come after `scaler.unscale_(optimizer)` in the same iteration. Branches are followed:
a clip on the path without the scaler (`if use_amp: ... else: loss.backward()`), or one
that every scaled path reaches after its `unscale_`, is not flagged.
`accelerator.clip_grad_norm_`, Lightning's `clip_gradients` and Fabric unscale by
themselves and are not flagged.

## Why is this bad?
Under mixed precision the gradients in `.grad` are multiplied by the scaler's scale
factor (65536 at the start). Clipping them before `unscale_` compares that inflated
norm with `max_norm`: the clip always triggers and shrinks every update by up to the
scale factor, so training crawls, or (with `clip_grad_value_`) the threshold is
meaningless. PyTorch's AMP recipe calls `scaler.unscale_(optimizer)` first.

## Example
```python
for x, y in loader:
    optimizer.zero_grad()
    with torch.autocast("cuda"):
        loss = criterion(model(x), y)
    scaler.scale(loss).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
```

## Use instead
```python
for x, y in loader:
    optimizer.zero_grad()
    with torch.autocast("cuda"):
        loss = criterion(model(x), y)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
```

## Options
None.

## References
- [PyTorch AMP examples: working with unscaled gradients](https://pytorch.org/docs/stable/notes/amp_examples.html#working-with-unscaled-gradients)
- [`torch.amp.GradScaler.unscale_`](https://pytorch.org/docs/stable/amp.html#torch.amp.GradScaler.unscale_)
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import insert_before, make_fix, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.branches import exclusive
from gradlint.source.loops import (
    BACKWARD, CLIP, CLIP_FUNCTIONS, SCALE, SCALER_UPDATE, STEP, UNSCALE, Event, Scope, TrainingSummary,
)

CODE = "GL203"
NAME = "clip-without-unscale"
SEVERITY = "error"
SUMMARY = "Gradients are clipped under a GradScaler without scaler.unscale_() first"
SCOPE = "loop"
FIXABLE = True
OPTIONS: dict = {}

_SETUP = """
import torch
scaler = torch.amp.GradScaler("cuda")
"""

VALID = [
    Valid(
        _SETUP
        + """for x, y in loader:
    optimizer.zero_grad()
    scaler.scale(loss_fn(model(x), y)).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
"""
    ),
    Valid(  # no scaler: bf16 autocast needs no unscale
        """
import torch
for x, y in loader:
    optimizer.zero_grad()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = loss_fn(model(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
"""
    ),
    Valid(  # accelerate unscales inside its own clip
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
    Valid(  # unscale_ in a helper called before the clip
        _SETUP
        + """def unscale(opt):
    scaler.unscale_(opt)

for x, y in loader:
    optimizer.zero_grad()
    scaler.scale(loss_fn(model(x), y)).backward()
    unscale(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
"""
    ),
    Valid(  # sentence-transformers: the clip without unscale_ is on the path without the scaler
        _SETUP
        + """for x, y in loader:
    if use_amp:
        scaler.scale(loss_fn(model(x), y)).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
    else:
        loss_fn(model(x), y).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    optimizer.zero_grad()
"""
    ),
    Valid(  # torchrl's Dreamer: one clip after either path, each path ready for it
        _SETUP
        + """for batch in loader:
    optimizer.zero_grad()
    if use_amp:
        scaler.scale(loss_fn(model(batch))).backward()
        scaler.unscale_(optimizer)
    else:
        loss_fn(model(batch)).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    if use_amp:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
"""
    ),
]
INVALID = [
    Invalid(
        _SETUP
        + """for x, y in loader:
    optimizer.zero_grad()
    with torch.autocast("cuda"):
        loss = loss_fn(model(x), y)
    scaler.scale(loss).backward()
    # keep updates bounded
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
""",
        line=10,
        column=5,
        message="call scaler.unscale_(optimizer) before clipping",
        fixed=_SETUP
        + """for x, y in loader:
    optimizer.zero_grad()
    with torch.autocast("cuda"):
        loss = loss_fn(model(x), y)
    scaler.scale(loss).backward()
    # keep updates bounded
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
""",
    ),
    Invalid(  # unscale_ after the clip is too late; under accumulation
        _SETUP
        + """for i, (x, y) in enumerate(loader):
    scaler.scale(loss_fn(model(x), y) / 4).backward()
    if (i + 1) % 4 == 0:
        torch.nn.utils.clip_grad_value_(model.parameters(), 0.1)
        scaler.unscale_(optimizer)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()
""",
        line=7,
    ),
    Invalid(  # reported once, in the epoch helper's loop, not again at its call site
        """
import torch

def train_one_epoch(model, loader, optimizer, scaler):
    for x, y in loader:
        optimizer.zero_grad()
        scaler.scale(loss_fn(model(x), y)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()

def main():
    for epoch in range(90):
        train_one_epoch(model, loader, optimizer, torch.amp.GradScaler("cuda"))
""",
        line=8,
    ),
    Invalid(  # a helper's clip, called from a training and an evaluation epoch: once, at the clip
        """
import torch
class Trainer:
    def _run_batch(self, x, y, train=True):
        loss = self.model(x, y)
        if train:
            self.optimizer.zero_grad()
            self.scaler.scale(loss).backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
            self.scaler.step(self.optimizer)
            self.scaler.update()

    def _run_epoch(self, loader, train=True):
        for x, y in loader:
            self._run_batch(x, y, train)

    def fit(self):
        self.scaler = torch.amp.GradScaler()
        for epoch in range(10):
            self._run_epoch(self.train_loader, train=True)
            self._run_epoch(self.test_loader, train=False)
""",
        line=9,
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    for scope in summary.scopes:
        scalers = {e.receiver for e in scope.events if e.kind in (SCALE, SCALER_UPDATE) and e.receiver}
        if not scalers:
            continue
        for index, event in enumerate(scope.events):
            if event.kind != CLIP or not _is_torch_clip(summary, event):
                continue
            earlier = scope.events[:index]
            last_backward = max((i for i, e in enumerate(earlier) if e.kind == BACKWARD), default=-1)
            if not _scaled_on_its_path(scope, index):
                continue
            scaler = sorted(scalers)[0]
            optimizers = sorted({e.receiver for e in scope.of(STEP) if e.receiver})
            optimizer = optimizers[0] if len(optimizers) == 1 else "optimizer"
            yield Report(
                summary.unit.span(event.node),
                f"gradients are clipped while still multiplied by {scaler}'s scale factor; "
                f"call {scaler}.unscale_({optimizer}) before clipping",
                fix=_fix(summary, scope, event, scalers, index, last_backward),
            )


def _scaled_on_its_path(scope: Scope, index: int) -> bool:
    """Whether the clip at ``index`` can see gradients a ``scaler.scale`` made with no
    ``unscale_`` of the same path in between. Branches that exclude each other
    (``if amp: ... scale, unscale_ ... else: loss.backward()``) are separate paths."""
    clip = scope.events[index]
    earlier = [e for e in scope.events[:index] if not exclusive(e, clip)]
    scales = [i for i, e in enumerate(earlier) if e.kind == SCALE]
    if not any(e.kind == SCALE for e in scope.events):
        # the scaler is known only from step()/update(): the last backward stands in for scale()
        scales = [max((i for i, e in enumerate(earlier) if e.kind == BACKWARD), default=-1)]
    return any(
        not any(e.kind == UNSCALE and (start < 0 or not exclusive(e, earlier[start])) for e in earlier[start + 1 :])
        for start in scales
    )


def _is_torch_clip(summary: TrainingSummary, event: Event) -> bool:
    """torch's own clip functions; frameworks' clip methods unscale by themselves."""
    return isinstance(event.node, ast.Call) and summary.names.qualify(event.node.func) in CLIP_FUNCTIONS


def _fix(summary: TrainingSummary, scope: Scope, clip: Event, scalers: set, index: int, last_backward: int) -> Optional[Fix]:
    optimizers = {e.receiver for e in scope.of(STEP)}
    steps_after = [e for e in scope.events[index + 1 :] if e.kind == STEP]
    if len(scalers) != 1 or len(optimizers) != 1 or None in optimizers or last_backward < 0 or not steps_after:
        return None  # the clip is misplaced (GL202) or the loop shape is not clear
    if clip.via is not None or any(e.kind == UNSCALE for e in scope.events[index + 1 :]):
        return None  # moving a later unscale_ is a judgement call; leave it to the user
    if any(e.kind == CLIP and not exclusive(e, clip) for e in scope.events[last_backward + 1 : index]):
        return None  # the earlier clip's fix unscales for this one too; a second unscale_ raises
    if clip.own is None or not standalone(summary.unit, clip.own):
        return None
    (scaler,), (optimizer,) = scalers, optimizers
    return make_fix(f"call {scaler}.unscale_({optimizer}) before clipping", insert_before(summary.unit, clip.own, [f"{scaler}.unscale_({optimizer})"]))
