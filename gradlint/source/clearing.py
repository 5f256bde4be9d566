"""Which gradients a training scope clears: facts for GL206, which decides and words.

A clear is ``zero_grad()`` on an optimiser or a module, ``p.grad = None``, or a call to
a helper of another module whose name says it clears (``reset_grads(optimizer)``).
The facts: which optimisers and models a scope's clears reach (``clears_found``), whose
parameters an optimiser takes (``parameters_owner``), the loops around a scope that step
an optimiser of their own (``outer_loops``), the closure an ``optimizer.step(closure)``
is given (``closure_of``) and, for an LBFGS step, whether that closure runs backward()
and clears (``lbfgs_closures``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional, Union

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


@dataclass(frozen=True)
class ClearsFound:
    """What a scope's ``zero_grad()`` calls clear. ``opt.zero_grad()`` clears ``opt`` and,
    when known, the model whose parameters it takes; ``model.zero_grad()`` clears that model."""

    optimizers: frozenset[str]  # optimisers cleared by name
    models: frozenset[str]  # models cleared, and the models of cleared optimisers
    modules: bool  # some clear is a module's (model.zero_grad())
    unknown: bool  # some cleared optimiser's model is not known
    named: tuple[str, ...]  # what the clears name (a cleared optimiser by its model when known), sorted


def clears_found(summary: TrainingSummary, scope: Scope) -> Optional[ClearsFound]:
    """The reach of the scope's ``zero_grad()`` calls; None when one has a reach that
    cannot be told by name (``p.grad = None``, a scaler's, a scheduler's, an accelerator's,
    one on an unknown receiver): that clear may clear everything."""
    optimizers: set[str] = set()
    models: set[str] = set()
    modules = unknown = False
    named: set[str] = set()
    for event in scope.of(ZERO_GRAD):
        call = event.node
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "zero_grad"):
            return None
        kind = summary.names.kind_of(event.receiver)
        if event.receiver is None or kind in ("scaler", "scheduler", "accelerator"):
            return None
        model = parameters_owner(summary, event.receiver) if kind == "optimizer" else event.receiver
        if kind == "optimizer":
            optimizers.add(event.receiver)
            unknown = unknown or model is None
        modules = modules or kind != "optimizer"
        models.update([model] if model else [])
        named.add(model or event.receiver)
    return ClearsFound(frozenset(optimizers), frozenset(models), modules, unknown, tuple(sorted(named)))


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


def parameters_owner(summary: TrainingSummary, optimizer: Optional[str]) -> Optional[str]:
    """``netG`` for ``optimizer = Adam(netG.parameters())``: one model's parameters only."""
    binding = summary.names.bindings.get(optimizer or "")
    if binding is None or binding.kind != "optimizer" or not isinstance(binding.node, ast.Call) or not binding.node.args:
        return None
    owners = [
        node for node in ast.walk(binding.node.args[0])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("parameters", "named_parameters")
    ]
    return binding.params_of if len(owners) == 1 else None


def overlaps(one: str, other: str) -> bool:
    """One model is the other or a part of it (``model`` and ``model.encoder``)."""
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


@dataclass(frozen=True)
class LbfgsClosure:
    """An LBFGS ``step(closure)`` given a ``def``: LBFGS evaluates the closure several times
    per step() (the other torch.optim optimisers once)."""

    step: Event
    closure: Union[ast.FunctionDef, ast.AsyncFunctionDef]
    runs_backward: bool  # backward() runs inside the closure
    clears: bool  # the closure clears gradients itself (zero_grad(), a clearing helper)


def lbfgs_closures(scope: Scope, names: Names, tree: Optional[ast.Module] = None) -> list[LbfgsClosure]:
    """The scope's LBFGS steps whose closure is a ``def``, with what the closure does."""
    found = []
    for step in scope.of(STEP):
        binding = names.bindings.get(step.receiver or "")
        if binding is None or not (binding.call or "").endswith("LBFGS"):
            continue
        closure = closure_of(scope, step, tree)
        if not isinstance(closure, _DEFS):
            continue

        def inside(event: Event) -> bool:
            return contains(closure, event.node) or (event.via is not None and contains(closure, event.via))

        runs_backward = any(event.kind == BACKWARD and inside(event) for event in scope.events)
        clears = any(event.kind == ZERO_GRAD and inside(event) for event in scope.events) or _calls_clearing(closure)
        found.append(LbfgsClosure(step, closure, runs_backward, clears))
    return found
