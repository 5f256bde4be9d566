"""Which gradients a training scope clears, for GL206.

A clear is ``zero_grad()`` on an optimiser or a module, ``p.grad = None``, or a call to
a helper of another module whose name says it clears (``reset_grads(optimizer)``).
With several optimisers (a GAN) each stepped optimiser's model must be cleared. LBFGS's
``optimizer.step(closure)`` re-evaluates the closure, so a closure that runs backward()
must clear at its own start, whatever is cleared outside it.
"""

from __future__ import annotations

import ast
from typing import Optional, Union

from gradlint.findings import Fix
from gradlint.fix.edits import insert_after, insert_before, make_fix, standalone
from gradlint.source.loops import BACKWARD, CLEARING_NAME, STEP, ZERO_GRAD, Event, Scope, TrainingSummary
from gradlint.source.loops import LOOP_NODES, EventCollector, contains, helper_functions  # outer loops are not scopes
from gradlint.source.names import Names, dotted

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
Closure = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]


def calls_clearing_helper(scope: Scope) -> bool:
    return _calls_clearing(scope.node)


def _calls_clearing(tree: ast.AST) -> bool:
    """A call named to clear gradients (``reset_grads(optimizer)``) anywhere in ``tree``."""
    return any(
        isinstance(node, ast.Call) and CLEARING_NAME.search((dotted(node.func) or "").rsplit(".", 1)[-1])
        for node in ast.walk(tree)
    )


def uncleared_optimizer(
    summary: TrainingSummary, scope: Scope, outer: bool = False
) -> Optional[tuple[Event, str]]:
    """With several optimisers (a GAN), the step (and GL206's message) of one whose gradients no zero_grad()
    clears, wherever in the loop that clear sits. ``opt.zero_grad()`` clears ``opt`` and,
    when known, the model whose parameters it takes; ``model.zero_grad()`` clears that
    model, and every optimiser whose model is not known. A clear of unknown reach
    (``p.grad = None``, a scaler's) counts as clearing everything. ``outer``: a loop
    around a scope, whose own steps (outside its nested loops) only are checked."""
    steps = scope.of(STEP)
    if len({event.receiver for event in steps}) < 2:
        return None
    optimizers: set[str] = set()  # cleared by name
    models: set[str] = set()  # cleared models (and models of cleared optimizers)
    modules = unknown = False  # a module-level clear; a cleared optimiser of unknown model
    shown: set[str] = set()
    for event in scope.of(ZERO_GRAD):
        call = event.node
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "zero_grad"):
            return None
        kind = summary.names.kind_of(event.receiver)
        if event.receiver is None or kind in ("scaler", "scheduler", "accelerator"):
            return None
        model = _parameters_owner(summary, event.receiver) if kind == "optimizer" else event.receiver
        if kind == "optimizer":
            optimizers.add(event.receiver)
            unknown = unknown or model is None
        modules = modules or kind != "optimizer"
        models.update([model] if model else [])
        shown.add(model or event.receiver)
    for step in steps:
        if (outer and step.loop_depth) or step.receiver is None or step.receiver in optimizers:
            continue
        model = _parameters_owner(summary, step.receiver)
        if (model is not None and not unknown and not any(_overlaps(model, other) for other in models)) or (
            model is None and not modules  # def train(gen, critic, opt_g, opt_c): only opt_c is cleared
        ):
            return step, (
                f"{scope.label} steps {step.receiver} but never clears {model or step.receiver}'s gradients "
                f"(zero_grad() clears {', '.join(sorted(shown))} only), so they accumulate across "
                f"iterations; call {step.receiver}.zero_grad() at the start of each iteration")
    return None


def outer_loops(summary: TrainingSummary) -> list[Scope]:
    """Loops around a scope's loop that step an optimiser outside it (a WGAN: the critic
    trains in an inner loop, the generator after it), with all their events."""
    inner = [scope.node for scope in summary.scopes if scope.kind != "function"]
    collector = EventCollector(summary.names, helper_functions(summary.unit.tree))  # type: ignore[arg-type]
    found = []
    for loop in ast.walk(summary.unit.tree):  # type: ignore[arg-type]
        if not isinstance(loop, LOOP_NODES) or loop in inner or not any(contains(loop, node) for node in inner):
            continue
        events = collector.collect_scope(loop.body)
        own = {event.kind for event in events if event.loop_depth == 0}
        if {BACKWARD, STEP} <= own and any(event.kind == ZERO_GRAD for event in events):
            found.append(Scope("while" if isinstance(loop, ast.While) else "for", loop, events))
    return found


def _parameters_owner(summary: TrainingSummary, optimizer: Optional[str]) -> Optional[str]:
    """``netG`` for ``optimizer = Adam(netG.parameters())``: one model's parameters only."""
    binding = summary.names.bindings.get(optimizer or "")
    if binding is None or binding.kind != "optimizer" or not isinstance(binding.node, ast.Call) or not binding.node.args:
        return None
    owners = [
        node for node in ast.walk(binding.node.args[0])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("parameters", "named_parameters")
    ]
    return binding.params_of if len(owners) == 1 else None


def _overlaps(one: str, other: str) -> bool:
    return one == other or one.startswith(other + ".") or other.startswith(one + ".")


def closure_of(scope: Scope, step: Event, tree: Optional[ast.Module] = None) -> Optional[Closure]:
    """The closure ``optimizer.step(closure)`` is given: a lambda, or the ``def`` a name
    resolves to (in the scope, in a function around it, or at module level); None for a
    plain ``step()``, ``scaler.step(opt)``, ``step(closure=None)`` and any other argument."""
    call = step.node
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return None
    if dotted(call.func.value) != step.receiver:
        return None  # scaler.step(optimizer)
    closure = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "closure"), None)
    if isinstance(closure, ast.Lambda):
        return closure
    if not isinstance(closure, ast.Name):
        return None
    candidates = [node for node in ast.walk(scope.node) if isinstance(node, _DEFS)]
    if tree is not None:
        around = [node for node in ast.walk(tree) if isinstance(node, _DEFS) and contains(node, scope.node)]
        for holder in reversed(around + [tree]):  # innermost first
            candidates += [node for node in holder.body if isinstance(node, _DEFS)]  # type: ignore[attr-defined]
    return next((node for node in candidates if node.name == closure.id), None)


def closure_without_clear(scope: Scope, names: Names, tree: Optional[ast.Module] = None) -> Optional[tuple[Event, Closure]]:
    """An LBFGS step whose closure (a ``def``) calls backward() and never clears the
    gradients itself: LBFGS evaluates the closure several times per step(), and a clear
    outside it runs once per step, so the evaluations add up. Only LBFGS: the other
    torch.optim optimisers evaluate the closure once, and SAM-style ones clear between
    their evaluations themselves."""
    for step in scope.of(STEP):
        binding = names.bindings.get(step.receiver or "")
        if binding is None or not (binding.call or "").endswith("LBFGS"):
            continue
        closure = closure_of(scope, step, tree)
        if not isinstance(closure, _DEFS):
            continue

        def inside(event: Event) -> bool:
            return contains(closure, event.node) or (event.via is not None and contains(closure, event.via))

        if not any(event.kind == BACKWARD and inside(event) for event in scope.events):
            continue
        if any(event.kind == ZERO_GRAD and inside(event) for event in scope.events):
            continue
        if _calls_clearing(closure):
            continue
        return step, closure
    return None


def closure_message(step: Event, closure: Closure) -> str:
    name = getattr(closure, "name", "the closure")
    return (
        f"{name}() calls backward() but never clears gradients, and LBFGS evaluates it several "
        f"times per {step.receiver}.step(closure), so they accumulate across evaluations (a clear outside "
        f"the closure runs once per step); call {step.receiver}.zero_grad() at the start of {name}()")



def clear_fix(summary: TrainingSummary, scope: Scope) -> Optional[Fix]:
    """GL206's fix: clear right after the (single) step, correct with and without
    accumulation; for a ``def`` closure, at the closure's start (LBFGS re-evaluates it in step())."""
    steps = scope.of(STEP)
    optimizers = {event.receiver for event in steps}
    if len(steps) != 1 or None in optimizers or steps[0].via is not None:
        return None
    step = steps[0]
    closure = closure_of(scope, step, summary.unit.tree)
    if closure is not None:
        if not isinstance(closure, _DEFS) or not standalone(summary.unit, closure.body[0]):
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
