"""## What it does
Checks training loops (and step functions) that call `backward()` and an optimiser's
`step()` but never clear the gradients inside the loop. A clear is `zero_grad()` on an
optimiser or a module, `p.grad = None`, `p.grad.zero_()`, or a call whose name says it
clears (`reset_grads(optimizer)`, `clear_grad`). A closure handed to
`optimizer.step(closure)` is part of the iteration: a lambda, or a name bound to a `def`
in the loop, a function around it or the module (`step(closure=None)` is a plain step).
`torch.optim.LBFGS` evaluates its closure several times per `step()`, so a closure that
calls `backward()` must clear the gradients itself even when the loop clears them
outside it (reported at the closure); other optimisers evaluate it once, and a clear
outside it suffices. With several optimisers (a GAN), it also flags one that no clear in
the loop covers, wherever the clear sits (`netD.zero_grad()`, alone or in the critic's
inner loop, leaves the generator's gradients to pile up). `opt.zero_grad()` covers `opt`
and the model it optimises; `model.zero_grad()` covers that model, and any optimiser
whose model is unknown (optimisers passed in as parameters).

## Why is this bad?
PyTorch *adds* each `backward()` into `.grad`. Without clearing, every step uses
the sum of all gradients since the start (or since the last clear in an outer
loop): the effective gradient grows with every iteration and the updates explode,
which looks exactly like an exploding-gradient problem with no structural cause.

## Example
```python
for inputs, targets in loader:
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
```

## Use instead
```python
for inputs, targets in loader:
    optimizer.zero_grad(set_to_none=True)
    loss = criterion(model(inputs), targets)
    loss.backward()
    optimizer.step()
```

## Options
None.

## References
- [PyTorch: Zeroing out gradients](https://pytorch.org/tutorials/recipes/recipes/zeroing_out_gradients.html)
- [`torch.optim.Optimizer.zero_grad`](https://pytorch.org/docs/stable/generated/torch.optim.Optimizer.zero_grad.html)
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import insert_after, insert_before, make_fix, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.clearing import (
    LbfgsClosure, calls_clearing_helper, clears_found, closure_of, lbfgs_closures, outer_loops, overlaps,
    parameters_owner,
)
from gradlint.source.loops import STEP, ZERO_GRAD, Scope, TrainingSummary
from gradlint.source.names import dotted

from .support.other_places import other_place

CODE = "GL206"
NAME = "missing-zero-grad"
SEVERITY = "error"
SUMMARY = "Training loop calls backward() and step() but never clears gradients"
SCOPE = "loop"
FIXABLE = True
OPTIONS: dict = {}

# Functions that are a whole iteration by contract (Lightning manual optimisation).
ITERATION_FUNCTIONS = {"training_step"}

VALID = [
    Valid(
        """
for epoch in range(10):
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
"""
    ),
    Valid(
        """
for x, y in loader:
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    model.zero_grad(set_to_none=True)
"""
    ),
    Valid(
        """
for x, y in loader:
    for p in model.parameters():
        p.grad = None
    loss_fn(model(x), y).backward()
    optimizer.step()
"""
    ),
    Valid(
        """
def train_step(model, optimizer, x, y):
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()

for x, y in loader:
    optimizer.zero_grad()
    train_step(model, optimizer, x, y)
"""
    ),
    Valid(
        """
scaler = torch.cuda.amp.GradScaler()
for x, y in loader:
    optimizer.zero_grad()
    scaler.scale(loss_fn(model(x), y)).backward()
    scaler.step(optimizer)
    scaler.update()
"""
    ),
    Valid(
        """
for x, y in loader:
    loss = loss_fn(model(x), y)
    loss.backward()
    scheduler.step()
"""
    ),
    Valid(  # DCGAN: each network cleared through the module
        """
optimizerD = torch.optim.Adam(netD.parameters())
optimizerG = torch.optim.Adam(netG.parameters())
for data in loader:
    netD.zero_grad()
    criterion(netD(data), real).backward()
    optimizerD.step()
    netG.zero_grad()
    criterion(netD(netG(noise)), real).backward()
    optimizerG.step()
"""
    ),
    Valid(  # LBFGS: the closure clears before its backward
        """
optimizer = torch.optim.LBFGS(model.parameters())
for epoch in range(50):
    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        return loss
    optimizer.step(closure)
"""
    ),
]
INVALID = [
    Invalid(
        """
for x, y in loader:
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()  # update
    log(loss)
""",
        line=2,
        column=1,
        message="calls backward() and optimizer.step() but never clears gradients",
        fixed="""
for x, y in loader:
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()  # update
    optimizer.zero_grad()
    log(loss)
""",
    ),
    Invalid(  # Lightning manual optimisation
        """
import lightning as L

class GAN(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        loss = self.compute_loss(batch)
        self.manual_backward(loss)
        if (batch_idx + 1) % 2 == 0:
            opt.step()
""",
        line=9,
        fixed="""
import lightning as L

class GAN(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        loss = self.compute_loss(batch)
        self.manual_backward(loss)
        if (batch_idx + 1) % 2 == 0:
            opt.step()
            opt.zero_grad()
""",
    ),
    Invalid(
        """
for epoch in range(10):
    optimizer.zero_grad()
    for x, y in loader:
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
""",
        line=4,
    ),
    Invalid(
        """
def train_step(model, optimizer, x, y):
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()

while True:
    train_step(model, optimizer, *next(it))
""",
        line=7,
    ),
    Invalid(
        """
scaler = torch.cuda.amp.GradScaler()
for x, y in loader:
    scaler.scale(loss_fn(model(x), y)).backward()
    scaler.step(optimizer)
    scaler.update()
""",
        line=3,
    ),
    Invalid(  # a GAN whose generator's gradients are never cleared
        """
optimizerD = torch.optim.Adam(netD.parameters())
optimizerG = torch.optim.Adam(netG.parameters())
for data in loader:
    netD.zero_grad()
    criterion(netD(data), real).backward()
    optimizerD.step()
    criterion(netD(netG(noise)), real).backward()
    optimizerG.step()
""",
        line=9,
    ),
    Invalid(  # LBFGS: the closure runs several times per step() and never clears
        """
optimizer = torch.optim.LBFGS(model.parameters())
for epoch in range(50):
    def closure():
        loss = loss_fn(model(X), Y)
        loss.backward()
        return loss
    optimizer.step(closure)
""",
        line=3,
        fixed="""
optimizer = torch.optim.LBFGS(model.parameters())
for epoch in range(50):
    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(X), Y)
        loss.backward()
        return loss
    optimizer.step(closure)
""",
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    for scope in summary.scopes:
        reports = list(_missing_clear(summary, scope))
        unclearing = None if reports else _unclearing_closure(scope, summary)
        if unclearing is not None:  # LBFGS, and a clear outside the closure only
            reports.append(Report(summary.unit.header_span(unclearing.closure), _closure_message(unclearing),
                                  fix=_clear_fix(summary, scope)))
        yield from reports
    for scope in outer_loops(summary):  # WGAN: the generator steps after the critic's inner loop
        yield from _uncleared(summary, scope, outer=True)


def _uncleared(summary: TrainingSummary, scope: Scope, outer: bool = False) -> Iterator[Report]:
    """With several optimisers (a GAN), the step of one whose gradients no zero_grad()
    clears, wherever in the loop that clear sits. A clear of unknown reach counts as
    clearing everything; ``model.zero_grad()`` clears every optimiser whose model is not
    known. ``outer``: a loop around a scope, whose own steps (outside its nested loops)
    only are checked."""
    steps = scope.of(STEP)
    if len({event.receiver for event in steps}) < 2:
        return
    clears = clears_found(summary, scope)
    if clears is None:
        return
    for step in steps:
        if (outer and step.loop_depth) or step.receiver is None or step.receiver in clears.optimizers:
            continue
        model = parameters_owner(summary, step.receiver)
        if (model is not None and not clears.unknown and not any(overlaps(model, other) for other in clears.models)) or (
            model is None and not clears.modules  # def train(gen, critic, opt_g, opt_c): only opt_c is cleared
        ):
            yield Report(summary.unit.span(step.node), (
                f"{scope.label} steps {step.receiver} but never clears {model or step.receiver}'s gradients "
                f"(zero_grad() clears {', '.join(clears.named)} only), so they accumulate across "
                f"iterations; call {step.receiver}.zero_grad() at the start of each iteration"))
            return


def _unclearing_closure(scope: Scope, summary: TrainingSummary) -> Optional[LbfgsClosure]:
    """An LBFGS closure that calls backward() and never clears the gradients itself: LBFGS
    evaluates the closure several times per step(), and a clear outside it runs once per
    step, so the evaluations add up. Only LBFGS: the other torch.optim optimisers evaluate
    the closure once, and SAM-style ones clear between their evaluations themselves."""
    closures = lbfgs_closures(scope, summary.names, summary.unit.tree)
    return next((found for found in closures if found.runs_backward and not found.clears), None)


def _closure_message(found: LbfgsClosure) -> str:
    name, optimizer = found.closure.name, found.step.receiver
    return (
        f"{name}() calls backward() but never clears gradients, and LBFGS evaluates it several "
        f"times per {optimizer}.step(closure), so they accumulate across evaluations (a clear outside "
        f"the closure runs once per step); call {optimizer}.zero_grad() at the start of {name}()")


def _clear_fix(summary: TrainingSummary, scope: Scope) -> Optional[Fix]:
    """Clear right after the (single) step, correct with and without accumulation; for a
    ``def`` closure, at the closure's start (LBFGS re-evaluates it in step())."""
    steps = scope.of(STEP)
    optimizers = {event.receiver for event in steps}
    if len(steps) != 1 or None in optimizers or steps[0].via is not None:
        return None
    step = steps[0]
    closure = closure_of(scope, step, summary.unit.tree)
    if closure is not None:
        if not isinstance(closure, (ast.FunctionDef, ast.AsyncFunctionDef)) or not standalone(summary.unit, closure.body[0]):
            return None
        return make_fix(
            f"call {step.receiver}.zero_grad() at the start of {closure.name}()",
            insert_before(summary.unit, closure.body[0], [f"{step.receiver}.zero_grad()"]),
        )
    if step.own is None or not standalone(summary.unit, step.own):
        return None
    return make_fix(
        f"call {step.receiver}.zero_grad() after {step.receiver}.step()",
        insert_after(summary.unit, step.own, [f"{step.receiver}.zero_grad()"]),
    )


def _missing_clear(summary: TrainingSummary, scope: Scope) -> Iterator[Report]:
    if scope.first(ZERO_GRAD) is not None:
        yield from _uncleared(summary, scope)
        return
    if isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and scope.node.name not in ITERATION_FUNCTIONS:
        return  # who clears is decided by a caller we cannot see
    if calls_clearing_helper(scope):
        return  # utils.reset_grads(optimizer): a helper of another module that says it clears
    steps = scope.of(STEP)
    if all(_built_in(summary, scope, step.receiver) for step in steps):
        return  # a new optimiser over fresh tensors each iteration (latent guidance): nothing carries over
    optimizer = steps[0].receiver or "optimizer"
    message = f"{scope.label} calls backward() and {optimizer}.step() but never clears gradients, so they accumulate across iterations"
    outer = scope.outer_zero_grads[0].node.lineno if scope.outer_zero_grads else 0
    if outer:
        message += f" (zero_grad() on line {outer} runs only once per outer loop)"
    if closure_of(scope, steps[0], summary.unit.tree) is not None:
        message += f"; call {optimizer}.zero_grad() at the start of the closure"
    else:  # the words of the fix (_clear_fix), which inserts it after the step
        message += f"; call {optimizer}.zero_grad() after {optimizer}.step(), so each iteration starts from clear gradients"
    span = summary.unit.header_span(scope.node)
    yield Report(span, message, fix=_clear_fix(summary, scope),
                 related=other_place(outer, "the gradients are cleared here, only once per outer loop", span))



def _built_in(summary: TrainingSummary, scope: Scope, optimizer: Optional[str]) -> bool:
    """Whether the loop itself builds ``optimizer`` with a torch.optim class (``opt = SGD([x_in])`` each iteration)."""
    return optimizer is not None and not isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
        and (summary.names.qualify(node.value.func) or "").startswith("torch.optim.")
        and any(dotted(t) == optimizer for t in node.targets)
        for node in ast.walk(scope.node)
    )
