"""## What it does
Checks loops that accumulate gradients (the optimiser `step()` only every k > 1
micro-batches: under `if (i + 1) % k == 0:`, a counter reaching k, after
`if (i + 1) % k != 0: continue`, or after an inner `for micro_step in range(k)` loop)
and flags a clear of the gradients that runs on every micro-batch: `optimizer.zero_grad()`,
`model.zero_grad()` or `p.grad = None` outside the step branch, with no test of its own
around it. A clear inside the step branch, or under a test that holds once per window
(`if i % k == 0: optimizer.zero_grad()`), is correct. Loops under
`accelerator.accumulate(model)` are left alone: Accelerate skips the clear on the
micro-batches that only accumulate. A clear of another optimiser or model than the one
that accumulates is not flagged.

## Why is this bad?
`backward()` adds each micro-batch's gradient into `.grad`; accumulation relies on
nothing clearing it until the step. A clear on every micro-batch throws away all but
the last micro-batch of each window (or all of them, when it runs between the last
`backward()` and the step): the step sees the gradient of one micro-batch, scaled down
by 1/k when the loss is divided by k. Training looks normal but uses a k times smaller
batch and learning rate, so the accumulation the run was configured for never happens.
The PyTorch AMP examples clear the gradients only on the iterations that step. Measured
on a CPU loop with k = 4: the gradient at the step is 0.25 of one micro-batch's instead of
the window's (`tests/test_accumulation_order_rules.py`).

## Example
```python
for i, (x, y) in enumerate(loader):
    optimizer.zero_grad()
    loss = criterion(model(x), y) / accum_steps
    loss.backward()
    if (i + 1) % accum_steps == 0:
        optimizer.step()
```

## Use instead
```python
for i, (x, y) in enumerate(loader):
    loss = criterion(model(x), y) / accum_steps
    loss.backward()
    if (i + 1) % accum_steps == 0:
        optimizer.step()
        optimizer.zero_grad()
```

## Options
None.

## References
- [PyTorch AMP examples: gradient accumulation](https://pytorch.org/docs/stable/notes/amp_examples.html#gradient-accumulation)
- [PyTorch: Zeroing out gradients](https://pytorch.org/tutorials/recipes/recipes/zeroing_out_gradients.html)
- [Hugging Face Accelerate: gradient accumulation](https://huggingface.co/docs/accelerate/usage_guides/gradient_accumulation)
- [bytetriper/RAE#67: zero_grad is called per microbatch, breaking gradient accumulation](https://github.com/bytetriper/RAE/issues/67)
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from gradlint.findings import Fix, Related, Span
from gradlint.fix.edits import delete, make_fix, move_after, source, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.accumulation import Accumulation, find_accumulation
from gradlint.source.loops import BACKWARD, SCALER_UPDATE, STEP, ZERO_GRAD, Event, Scope, TrainingSummary
from gradlint.source.micro_batches import per_micro_batch, step_block

from .support.other_places import step_place

CODE = "GL207"
NAME = "zero-grad-in-accumulation"
SEVERITY = "warning"
SUMMARY = "Gradients are cleared on every micro-batch of an accumulation window"
SCOPE = "loop"
FIXABLE = True
OPTIONS: dict = {}

VALID = [
    Valid(  # the clear at the start of each window
        """
for i, (x, y) in enumerate(loader):
    if i % accum == 0:
        optimizer.zero_grad()
    (criterion(model(x), y) / accum).backward()
    if (i + 1) % accum == 0:
        optimizer.step()
"""
    ),
    Valid(  # Accelerate clears only when it steps
        """
for batch in loader:
    with accelerator.accumulate(model):
        accelerator.backward(model(**batch).loss)
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # no accumulation: the step runs every iteration, the modulo only logs
        """
for i, (x, y) in enumerate(loader):
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
    if i % 50 == 0:
        print(i)
"""
    ),
    Valid(  # nanoGPT: micro-batches in an inner loop, one clear after the step
        """
while True:
    for micro_step in range(accum_steps):
        (model(X, Y)[1] / accum_steps).backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
"""
    ),
    Valid(  # the clear runs under a test of its own (a flag): not every micro-batch for sure
        """
for i, (x, y) in enumerate(loader):
    if args.no_accumulation:
        optimizer.zero_grad()
    (criterion(model(x), y) / k).backward()
    if (i + 1) % k == 0:
        optimizer.step()
        optimizer.zero_grad()
"""
    ),
    Valid(  # two optimisers take turns, one step per iteration: nothing accumulates
        """
for i, (real, z) in enumerate(loader):
    optimizer.zero_grad()
    gan_loss(netD, netG, real, z, i).backward()
    if i % 2 == 0:
        opt_d.step()
    if i % 2 == 1:
        opt_g.step()
"""
    ),
    Valid(  # the discriminator's gradients are cleared, not the accumulating generator's
        """
optG = torch.optim.Adam(netG.parameters())
for i, z in enumerate(loader):
    netD.zero_grad()
    (loss_g(netD, netG(z)) / k).backward()
    if (i + 1) % k == 0:
        optG.step()
        optG.zero_grad()
"""
    ),
]
INVALID = [
    Invalid(
        """
for i, (x, y) in enumerate(loader):
    optimizer.zero_grad()
    loss = criterion(model(x), y) / accum_steps
    loss.backward()
    if (i + 1) % accum_steps == 0:
        optimizer.step()
""",
        line=3,
        fixed="""
for i, (x, y) in enumerate(loader):
    loss = criterion(model(x), y) / accum_steps
    loss.backward()
    if (i + 1) % accum_steps == 0:
        optimizer.step()
        optimizer.zero_grad()
""",
    ),
    Invalid(  # AMP: the clear goes after scaler.update(); the branch keeps its scheduler
        """
for step, batch in enumerate(loader):
    scaler.scale(model(**batch).loss / k).backward()
    optimizer.zero_grad(set_to_none=True)  # clear for the next batch
    if step % k == k - 1:
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
""",
        line=4,
        fixed="""
for step, batch in enumerate(loader):
    scaler.scale(model(**batch).loss / k).backward()
    if step % k == k - 1:
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)  # clear for the next batch
        scheduler.step()
""",
    ),
    Invalid(  # a clear after the step branch, on every micro-batch; the branch already clears
        """
count = 0
for x, y in loader:
    (criterion(model(x), y) / 4).backward()
    count += 1
    if count >= 4:
        optimizer.step()
        optimizer.zero_grad()
        count = 0
    model.zero_grad()
""",
        line=10,
        fixed="""
count = 0
for x, y in loader:
    (criterion(model(x), y) / 4).backward()
    count += 1
    if count >= 4:
        optimizer.step()
        optimizer.zero_grad()
        count = 0
""",
    ),
    Invalid(  # inside nanoGPT's micro-batch loop
        """
while True:
    for micro_step in range(accum_steps):
        optimizer.zero_grad(set_to_none=True)
        (model(X, Y)[1] / accum_steps).backward()
    optimizer.step()
""",
        line=4,
        fixed="""
while True:
    for micro_step in range(accum_steps):
        (model(X, Y)[1] / accum_steps).backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
""",
    ),
    Invalid(  # Lightning manual optimisation: training_step is one micro-batch
        """
class Lit(LightningModule):
    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        opt.zero_grad()
        self.manual_backward(self.loss(batch) / 2)
        if (batch_idx + 1) % 2 == 0:
            opt.step()
""",
        line=5,
        fixed="""
class Lit(LightningModule):
    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        self.manual_backward(self.loss(batch) / 2)
        if (batch_idx + 1) % 2 == 0:
            opt.step()
            opt.zero_grad()
""",
    ),
    Invalid(  # two optimisers stepped in one branch: the clear moves after both steps
        """
for i, (x, y) in enumerate(loader):
    opt_enc.zero_grad()
    (recon_loss(dec(enc(x)), x) / k).backward()
    if (i + 1) % k == 0:
        opt_enc.step()
        opt_dec.step()
        opt_dec.zero_grad()
""",
        line=3,
        fixed="""
for i, (x, y) in enumerate(loader):
    (recon_loss(dec(enc(x)), x) / k).backward()
    if (i + 1) % k == 0:
        opt_enc.step()
        opt_dec.step()
        opt_enc.zero_grad()
        opt_dec.zero_grad()
""",
    ),
    Invalid(  # a clear in a helper: reported at the call, no fix
        """
def reset(opt):
    opt.zero_grad()

for i, (x, y) in enumerate(loader):
    reset(optimizer)
    (criterion(model(x), y) / k).backward()
    if (i + 1) % k == 0:
        optimizer.step()
""",
        line=6,
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    for scope in summary.scopes:
        window = find_accumulation(scope)
        if window is None:
            continue
        stepped = {event.receiver for event in scope.of(STEP)}
        for clear in scope.of(ZERO_GRAD):
            if not per_micro_batch(scope, window, clear) or not _clears_accumulated(summary, clear, stepped):
                continue
            span = summary.unit.span(clear.via or clear.node)
            message, related = _message(summary, scope, window, clear, span)
            yield Report(span, message, fix=_fix(summary, scope, window, clear), related=related)


def _clears_accumulated(summary: TrainingSummary, clear: Event, stepped: set) -> bool:
    """Whether ``clear`` can clear the gradients of an optimiser that accumulates: the
    optimiser itself, its model, a module of unknown relation, or parameters."""
    kind = summary.names.kind_of(clear.receiver)
    if kind in ("scheduler", "scaler", "accelerator"):
        return False
    if kind == "optimizer":
        return clear.receiver in stepped or clear.via is not None  # a helper's parameter: unknown which
    models = {
        model for name in stepped if name in summary.names.bindings
        for model in [summary.names.bindings[name].params_of] if model is not None
    }
    if not models or clear.receiver is None:
        return True
    return any(clear.receiver == model or model.startswith(f"{clear.receiver}.") for model in models)


def _message(summary: TrainingSummary, scope: Scope, window: Accumulation, clear: Event, span: Span
             ) -> tuple[str, tuple[Related, ...]]:
    """The finding's message and its other place, the step the gradients are cleared before."""
    what = _text(summary, clear)
    count = source(summary.unit, window.count) if window.count is not None else "k"
    index = scope.events.index(clear)
    after_backward = any(e.kind == BACKWARD for e in scope.events[:index]) and not any(
        e.kind == BACKWARD for e in scope.events[index + 1 :] if e.kind == BACKWARD
    )
    lost = "every micro-batch's gradient" if after_backward else f"all but the last of the {count} micro-batches"
    stepped = next((e for e in scope.of(STEP) if e.receiver == clear.receiver), window.step)
    step = stepped.receiver or "optimizer"
    line = getattr(stepped.node, "lineno", 0)
    return (
        f"`{what}` clears the gradients on every micro-batch, but {step} steps only every {count} "
        f"micro-batches (line {line}): the step loses {lost}; "
        f"clear them once per window, after {step}.step()"
    ), step_place(step, count, line, span)


def _text(summary: TrainingSummary, event: Event) -> str:
    node = event.via or event.node
    text = source(summary.unit, node).splitlines()[0] if source(summary.unit, node) else "zero_grad()"
    return text if len(text) <= 60 else text[:57] + "..."


def _fix(summary: TrainingSummary, scope: Scope, window: Accumulation, clear: Event) -> Optional[Fix]:
    own = clear.own
    if clear.via is not None or clear.guards or clear.contexts or not standalone(summary.unit, own):
        return None
    if not (isinstance(own, ast.Expr) and own.value is clear.node):
        return None  # `p.grad = None` inside a loop over parameters: moving one line would break it
    block = step_block(scope, window)
    steps = [e for e in scope.of(STEP) if e.own is not None and any(s is e.own for s in (block or []))]
    if block is None or not steps or own in block:
        return None
    last = max(steps, key=lambda e: next(i for i, s in enumerate(block) if s is e.own))
    anchor = _after_step(scope, block, last)  # after every step of the branch (a GAN's two optimisers)
    if _branch_clears(summary, scope, block, clear):
        return make_fix("remove the clear that runs on every micro-batch (the step branch clears)", delete(summary.unit, own))
    moved = move_after(summary.unit, own, anchor)
    if moved is None:
        return None
    return make_fix(f"move the clear into the step branch, after {last.receiver}.step()", *moved)


def _branch_clears(summary: TrainingSummary, scope: Scope, block: list[ast.stmt], clear: Event) -> bool:
    """Whether the step branch already clears what ``clear`` clears: the same receiver, or
    (for ``model.zero_grad()``) the optimiser of that model, or the only optimiser."""
    cleared = {e.receiver for e in scope.of(ZERO_GRAD) if any(s is e.own for s in block)}
    if clear.receiver in cleared:
        return True
    if summary.names.kind_of(clear.receiver) == "optimizer":
        return False
    stepped = {e.receiver for e in scope.of(STEP)}
    for name in cleared:
        binding = summary.names.bindings.get(name or "")
        if (binding is not None and binding.params_of == clear.receiver) or stepped == {name}:
            return True
    return False


def _after_step(scope: Scope, block: list[ast.stmt], step: Event) -> ast.stmt:
    """The step's statement, or the ``scaler.update()`` right after it."""
    assert step.own is not None
    position = next(i for i, s in enumerate(block) if s is step.own)
    if position + 1 < len(block):
        following = block[position + 1]
        if any(e.kind == SCALER_UPDATE and e.own is following for e in scope.events):
            return following
    return step.own

