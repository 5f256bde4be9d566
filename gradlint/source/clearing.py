"""Which gradients a training scope clears, for GL206.

A clear is ``zero_grad()`` on an optimiser or a module, ``p.grad = None``, or a call to
a helper of another module whose name says it clears (``reset_grads(optimizer)``).
With several optimisers (a GAN) each stepped optimiser's model must be cleared. An
LBFGS-style ``optimizer.step(closure)`` re-evaluates the closure, so the clear belongs
at the start of the closure.
"""

from __future__ import annotations

import ast
import re
from typing import Optional, Union

from gradlint.source.loops import STEP, ZERO_GRAD, Event, Scope, TrainingSummary
from gradlint.source.names import dotted

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
Closure = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
_CLEARING_NAME = re.compile(r"(zero|clear|reset)_?grad", re.IGNORECASE)


def calls_clearing_helper(scope: Scope) -> bool:
    return any(
        isinstance(node, ast.Call) and _CLEARING_NAME.search((dotted(node.func) or "").rsplit(".", 1)[-1])
        for node in ast.walk(scope.node)
    )


def uncleared_optimizer(summary: TrainingSummary, scope: Scope) -> Optional[tuple[Event, str, set[str]]]:
    """With several optimisers (a GAN), the step of one whose model no zero_grad() clears.
    Only when every clear and that optimiser's parameters are known to belong to one
    model each; a clear of unknown reach (``p.grad = None``, an unbound optimiser) counts
    as clearing everything."""
    steps = scope.of(STEP)
    if len({event.receiver for event in steps}) < 2:
        return None
    cleared: set[str] = set()
    for event in scope.of(ZERO_GRAD):
        call = event.node
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "zero_grad"):
            return None
        kind = summary.names.kind_of(event.receiver)
        model = _parameters_owner(summary, event.receiver) if kind == "optimizer" else event.receiver
        if model is None or kind in ("scaler", "scheduler", "accelerator"):
            return None
        cleared.add(model)
    for step in steps:
        model = _parameters_owner(summary, step.receiver)
        if model is not None and not any(_overlaps(model, other) for other in cleared):
            return step, model, cleared
    return None


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
        around = [node for node in ast.walk(tree) if isinstance(node, _DEFS) and _within(scope.node, node)]
        for holder in reversed(around + [tree]):  # innermost first
            candidates += [node for node in holder.body if isinstance(node, _DEFS)]  # type: ignore[attr-defined]
    return next((node for node in candidates if node.name == closure.id), None)


def _within(node: ast.AST, outer: ast.AST) -> bool:
    return outer.lineno <= node.lineno <= (outer.end_lineno or outer.lineno)  # type: ignore[attr-defined]
