"""## What it does
Checks training loops that backpropagate a loss scaled by a `GradScaler`
(`scaler.scale(loss).backward()`) and then call `optimizer.step()` directly instead of
`scaler.step(optimizer)`. The step is paired with the last `backward()` before it on the
same path: in a GAN whose generator steps through the scaler, a discriminator stepped
directly after its own scaled backward is flagged alone; a plain `loss.backward()` on
the other branch of `if use_amp:` is not. When `scaler.unscale_(optimizer)` came first
the magnitudes are right but the inf/NaN check is still lost, and that is flagged too.
Only `torch.amp.GradScaler` (built in the file, or passed in) is read: another
library's loss scaler (fairseq's `DynamicLossScaler`), or gradients divided by hand
before the step (`p.grad.div_(scale)`), is left alone, and so is an optimiser passed
through `accelerator.prepare(...)`, whose `step()` goes through the accelerator's scaler.

## Why is this bad?
`scaler.scale(loss)` multiplies the loss, and so every gradient, by the scale factor
(65536 at the start). `scaler.step(optimizer)` divides it out and skips the step when a
gradient overflowed to inf/NaN; `optimizer.step()` does neither. The update is made
with gradients 65536 times too large (plain SGD diverges at once; Adam's normalisation
hides most of it, but its epsilon and weight decay are off by the same factor), and an
overflowed step writes inf/NaN into the weights. `scaler.update()` then fails or keeps
a scale that nothing checks. The PyTorch AMP recipe steps through the scaler.

## Example
```python
for x, y in loader:
    optimizer.zero_grad()
    with torch.autocast("cuda", dtype=torch.float16):
        loss = criterion(model(x), y)
    scaler.scale(loss).backward()
    optimizer.step()
```

## Use instead
```python
for x, y in loader:
    optimizer.zero_grad()
    with torch.autocast("cuda", dtype=torch.float16):
        loss = criterion(model(x), y)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
```

## Options
None.

## References
- [PyTorch AMP examples: typical mixed precision training](https://pytorch.org/docs/stable/notes/amp_examples.html#typical-mixed-precision-training)
- [`torch.amp.GradScaler.step`](https://pytorch.org/docs/stable/amp.html#torch.amp.GradScaler.step)
"""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from gradlint.findings import Fix
from gradlint.fix.edits import insert_after, make_fix, replace, standalone
from gradlint.registry import Invalid, Report, Valid
from gradlint.source.accumulation import scales_gradients
from gradlint.source.branches import exclusive
from gradlint.source.loops import BACKWARD, SCALE, SCALER_UPDATE, STEP, UNSCALE, Event, Scope, TrainingSummary, contains
from gradlint.source.names import dotted

CODE = "GL210"
NAME = "scaled-gradients-stepped"
SEVERITY = "warning"
SUMMARY = "optimizer.step() on gradients scaled by a GradScaler, instead of scaler.step(optimizer)"
SCOPE = "loop"
FIXABLE = True
OPTIONS: dict = {}

VALID = [
    Valid(
        """
for x, y in loader:
    optimizer.zero_grad()
    scaler.scale(criterion(model(x), y)).backward()
    scaler.step(optimizer)
    scaler.update()
"""
    ),
    Valid(  # the plain path steps directly; the scaled one through the scaler
        """
for x, y in loader:
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    if use_amp:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()
"""
    ),
    Valid(  # Lightning and Accelerate scale and step for you
        """
class Lit(LightningModule):
    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        opt.zero_grad()
        self.manual_backward(self.loss(batch))
        opt.step()
"""
    ),
    Valid(  # bf16 autocast needs no scaler
        """
for x, y in loader:
    optimizer.zero_grad()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
"""
    ),
    Valid(  # a loss scaler of another kind, whose gradients are unscaled by hand before the step
        """
scaler = DynamicLossScaler(init_scale=2.0 ** 15)
for x, y in loader:
    optimizer.zero_grad()
    scaler.scale(criterion(model(x), y)).backward()
    for p in model.parameters():
        p.grad.div_(scaler.loss_scale)
    optimizer.step()
"""
    ),
    Valid(  # Accelerate's prepared optimiser steps through the accelerator's scaler
        """
model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
scaler = accelerator.scaler
for batch in loader:
    optimizer.zero_grad()
    scaler.scale(model(**batch).loss).backward()
    optimizer.step()
"""
    ),
    Valid(  # a method's loop: the optimiser was prepared in __init__
        """
class Fitter:
    def __init__(self, accelerator, model, optimizer):
        self.model, self.optimizer = accelerator.prepare(model, optimizer)
        self.scaler = torch.amp.GradScaler("cuda")
        self.accelerator = accelerator

    def fit(self, loader):
        for batch in loader:
            self.optimizer.zero_grad()
            self.scaler.scale(self.model(**batch).loss).backward()
            self.optimizer.step()
"""
    ),
    Valid(  # a second optimiser stepped after a plain backward of its own
        """
for x, y in loader:
    opt.zero_grad()
    scaler.scale(criterion(model(x), y)).backward()
    scaler.step(opt)
    scaler.update()
    aux_opt.zero_grad()
    aux_loss(model).backward()
    aux_opt.step()
"""
    ),
]
INVALID = [
    Invalid(
        """
for x, y in loader:
    optimizer.zero_grad()
    scaler.scale(criterion(model(x), y)).backward()
    optimizer.step()  # update
""",
        line=5,
        fixed="""
for x, y in loader:
    optimizer.zero_grad()
    scaler.scale(criterion(model(x), y)).backward()
    scaler.step(optimizer)  # update
    scaler.update()
""",
    ),
    Invalid(  # a GAN: the discriminator bypasses the scaler; one update() at the end serves both
        """
for real in loader:
    opt_d.zero_grad()
    scaler.scale(d_loss(real)).backward()
    opt_d.step()
    opt_g.zero_grad()
    scaler.scale(g_loss()).backward()
    scaler.step(opt_g)
    scaler.update()
""",
        line=5,
        fixed="""
for real in loader:
    opt_d.zero_grad()
    scaler.scale(d_loss(real)).backward()
    scaler.step(opt_d)
    opt_g.zero_grad()
    scaler.scale(g_loss()).backward()
    scaler.step(opt_g)
    scaler.update()
""",
    ),
    Invalid(  # another function prepares an optimiser of the same name: not this one
        """
def baseline(model, optimizer, loader, scaler):
    for batch in loader:
        scaler.scale(model(**batch).loss).backward()
        optimizer.step()
        optimizer.zero_grad()

def integration(accelerator, model, optimizer, loader):
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
""",
        line=5,
        fixed="""
def baseline(model, optimizer, loader, scaler):
    for batch in loader:
        scaler.scale(model(**batch).loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad()

def integration(accelerator, model, optimizer, loader):
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
""",
    ),
    Invalid(  # unscaled first: right magnitudes, but an inf/NaN step is not skipped
        """
for x, y in loader:
    optimizer.zero_grad()
    scaled = scaler.scale(criterion(model(x), y))
    scaled.backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scaler.update()
""",
        line=8,
        fixed="""
for x, y in loader:
    optimizer.zero_grad()
    scaled = scaler.scale(criterion(model(x), y))
    scaled.backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
""",
    ),
]


def check(summary: TrainingSummary, options: dict) -> Iterator[Report]:
    reported: set[int] = set()
    for scope in summary.scopes:
        for index, step in enumerate(scope.events):
            if step.kind != STEP or not _direct(step) or id(step.node) in reported:
                continue
            scale = _scaled_backward(scope, index)
            if scale is None or not _grad_scaler(summary, scale.receiver) or scales_gradients(scope):
                continue  # another library's loss scaler, or the gradients are unscaled by hand
            if _accelerate_steps(summary, scope, step.receiver, scale.receiver):
                continue  # an Accelerate-prepared optimiser's step() goes through its scaler
            reported.add(id(step.node))
            # scale and step in one helper (a train_step called from the loop): its own line is the place
            inside = step.via is not None and scale.via is step.via
            scaler = scale.receiver or "scaler"
            unscaled = any(
                e.kind == UNSCALE and not exclusive(e, step) and dotted(_first_arg(e)) == step.receiver
                for e in scope.events[scope.events.index(scale) : index]
            )
            why = (
                "the gradients were unscaled, but a step with inf/NaN gradients is not skipped"
                if unscaled
                else f"the update uses gradients multiplied by {scaler}'s scale factor (65536 at the start) "
                "and inf/NaN steps are not skipped"
            )
            yield Report(
                summary.unit.span(step.node if inside else step.via or step.node),
                f"{step.receiver}.step() steps on gradients scaled by {scaler}.scale(): {why}; "
                f"call {scaler}.step({step.receiver}) and then {scaler}.update()",
                fix=_fix(summary, scope, index, scaler, inside),
            )


def _grad_scaler(summary: TrainingSummary, name: Optional[str]) -> bool:
    """A ``torch.amp.GradScaler`` (or one passed in): not fairseq's or apex's own loss
    scalers, whose optimisers unscale the gradients themselves."""
    binding = summary.names.bindings.get(name or "")
    if binding is None or binding.call is None:
        return True
    return binding.kind == "scaler" or binding.call.rsplit(".", 1)[-1] in ("get_grad_scaler", "GradScaler")


def _accelerate_steps(summary: TrainingSummary, scope: Scope, optimizer: Optional[str], scaler: Optional[str]) -> bool:
    """``accelerator.prepare(..., optimizer, ...)`` wraps the optimiser so that its ``step()``
    calls the accelerator's scaler; ``scaler = accelerator.scaler`` is that scaler. Read in
    the function around the loop (the class, for ``self.`` names): another function's
    prepared optimiser of the same name is another object."""
    for node in ast.walk(_region(summary, scope, optimizer)):
        if isinstance(node, ast.Assign) and _is_prepare(summary, node.value):
            if any(dotted(sub) == optimizer for target in node.targets for sub in ast.walk(target)):
                return True  # self.model, self.optimizer = accelerator.prepare(model, optimizer)
        if _is_prepare(summary, node) and any(dotted(arg) == optimizer for arg in node.args):  # type: ignore[attr-defined]
            return True
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute) and node.value.attr == "scaler":
            if any(dotted(target) == scaler for target in node.targets):
                return summary.names.kind_of(dotted(node.value.value)) == "accelerator"
    return False


def _is_prepare(summary: TrainingSummary, node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "prepare"
        and summary.names.kind_of(dotted(node.func.value)) == "accelerator"
    )


def _region(summary: TrainingSummary, scope: Scope, name: Optional[str]) -> ast.AST:
    tree = summary.unit.tree
    assert tree is not None
    kinds: tuple[type[ast.stmt], ...] = (ast.ClassDef,) if (name or "").startswith("self.") else (ast.FunctionDef, ast.AsyncFunctionDef)
    around = [node for node in ast.walk(tree) if isinstance(node, kinds) and contains(node, scope.node)]
    return max(around, key=lambda node: getattr(node, "lineno", 0)) if around else tree


def _direct(step: Event) -> bool:
    """``optimizer.step()`` itself, not ``scaler.step(optimizer)``."""
    call = step.node
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and dotted(call.func.value) == step.receiver


def _first_arg(event: Event) -> ast.AST:
    call = event.node
    return call.args[0] if isinstance(call, ast.Call) and call.args else ast.Constant(None)


def _scaled_backward(scope: Scope, index: int) -> Optional[Event]:
    """The ``scaler.scale`` event behind the last backward on the step's path, if that backward was scaled."""
    step = scope.events[index]
    earlier = [e for e in scope.events[:index] if not exclusive(e, step)]
    backwards = [i for i, e in enumerate(earlier) if e.kind == BACKWARD]
    if not backwards:
        return None
    last = backwards[-1]
    previous = backwards[-2] if len(backwards) > 1 else -1
    boundary = max([previous] + [i for i, e in enumerate(earlier[:last]) if e.kind == STEP])
    scales = [e for e in earlier[boundary + 1 : last] if e.kind == SCALE and not exclusive(e, earlier[last])]
    return scales[-1] if scales else None


def _fix(summary: TrainingSummary, scope: Scope, index: int, scaler: str, inside: bool) -> Optional[Fix]:
    step = scope.events[index]
    call = step.node
    if (step.via is not None and not inside) or not isinstance(call, ast.Call) or call.args or call.keywords:
        return None
    if not standalone(summary.unit, step.own) or not (isinstance(step.own, ast.Expr) and step.own.value is call):
        return None
    scalers = {e.receiver for e in scope.events if e.kind in (SCALE, SCALER_UPDATE)}
    if len(scalers) != 1:
        return None
    edits = [replace(summary.unit, call, f"{scaler}.step({step.receiver})")]
    updates = [e for e in scope.events if e.kind == SCALER_UPDATE and not exclusive(e, step)]
    if any(scope.events.index(e) < index for e in updates) and not any(scope.events.index(e) > index for e in updates):
        return None  # an update() ahead of the step: where it belongs is not clear
    if not updates:
        edits.append(insert_after(summary.unit, step.own, [f"{scaler}.update()"]))
    return make_fix(f"step through {scaler}.step({step.receiver})", *edits)
