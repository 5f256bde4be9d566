"""The training-loop summary: the ordered events of each loop or step function.

A *scope* is one iteration of training: a ``for``/``while`` loop whose body (with
nested loops flattened and local helper functions inlined) both computes gradients
and steps an optimiser, or a step function that does so and is not called from a
loop of the same file. A loop that only calls a helper running its own training loop
(``for epoch ...: train_one_epoch(...)``) is not a scope: the helper's loop is.
A file that imports MXNet, TensorFlow or JAX and nothing of torch has no scopes.
Rules read the events of a scope in execution order; they never walk the tree themselves.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

from gradlint.source.events import (  # noqa: F401 - re-exported: rules import the event vocabulary from here
    BACKWARD, BACKWARD_METHODS, CLEARING_NAME, CLIP, CLIP_FUNCTIONS, CLIP_METHODS, FORWARD, LOOP_NODES, LOSS,
    LOSS_DIV, SCALE, SCALER_UPDATE, SCHEDULER_STEP, STEP, UNSCALE, ZERO_GRAD, Event, EventCollector, FunctionNode,
    Loop, _FUNCTIONS,
)
from gradlint.source.facts import FileFacts, file_facts
from gradlint.source.names import Names, dotted, other_framework
from gradlint.source.nodes import contains  # re-exported: rules import it from here
from gradlint.source.unit import SourceUnit

@dataclass
class Scope:
    kind: str  # "for" | "while" | "function"
    node: Union[Loop, FunctionNode]
    events: list[Event]
    # zero_grad calls in loops around this one: they run once per outer iteration
    outer_zero_grads: list[Event] = field(default_factory=list)

    def of(self, *kinds: str) -> list[Event]:
        return [event for event in self.events if event.kind in kinds]

    def first(self, kind: str) -> Optional[Event]:
        return next((e for e in self.events if e.kind == kind), None)

    @property
    def label(self) -> str:
        if isinstance(self.node, _FUNCTIONS):
            return f"step function `{self.node.name}`"
        return "training loop"


@dataclass
class TrainingSummary:
    unit: SourceUnit
    names: Names
    scopes: list[Scope]

    @functools.cached_property
    def facts(self) -> FileFacts:
        """File-level facts (frameworks, clipping settings, recurrent models), built on demand."""
        return file_facts(self.unit, self.names)


def summarize(unit: SourceUnit) -> TrainingSummary:
    """Build the training-loop summary of a parsed file."""
    assert unit.tree is not None
    names = Names(unit.tree)
    helpers = helper_functions(unit.tree)
    collector = EventCollector(names, helpers, unit.tree)

    scopes: list[Scope] = []
    if other_framework(names.aliases):
        return TrainingSummary(unit, names, scopes)  # MXNet, TensorFlow, JAX: not PyTorch's training semantics
    called_from_loops: set[str] = set()
    _find_scopes(unit.tree.body, collector, scopes, [], called_from_loops)
    for function in _all_functions(unit.tree):
        if _function_key(function) in called_from_loops:
            continue
        if any(isinstance(s.node, LOOP_NODES) and contains(function, s.node) for s in scopes):
            continue  # its own loop already is the scope
        events = collector.collect_scope(function.body, frozenset({function.name}))
        if _is_training(events) and not _trained_in_helper_loop(function, events, helpers):
            scopes.append(Scope("function", function, events))
    scopes = [scope for scope in scopes if not _trains_through_scopes(scope, scopes, collector)]
    scopes.sort(key=lambda s: (s.node.lineno, s.node.col_offset))
    return TrainingSummary(unit, names, scopes)


def _trains_through_scopes(scope: Scope, scopes: list[Scope], collector: EventCollector) -> bool:
    """Every backward() and step() of ``scope`` is reached through a call of a helper that
    holds another scope (``for epoch: self._run_epoch(...)``, whose own loop calls
    ``self._run_batch``): that inner scope is the iteration, and this one would report
    each of its problems again at each call site."""
    training = [e for e in scope.events if e.kind in (BACKWARD, STEP)]
    if not training or any(e.via is None for e in training):
        return False
    for event in training:
        helper = collector._helper(event.via.func) if isinstance(event.via, ast.Call) else None
        if helper is None or not any(other is not scope and contains(helper, other.node) for other in scopes):
            return False
    return True


def _is_training(events: list[Event]) -> bool:
    kinds = {e.kind for e in events}
    return BACKWARD in kinds and STEP in kinds


def _find_scopes(body, collector, scopes, outer_events, called_from_loops) -> None:
    """Pick, in each loop nest, the innermost loops that hold a whole training step."""
    for stmt in body:
        for loop in _loops_at_top(stmt):
            events = collector.collect_scope(loop.body)
            nested_before = len(scopes)
            _find_scopes(loop.body, collector, scopes, outer_events + [events], called_from_loops)
            if len(scopes) > nested_before or not _is_training(events):
                continue
            if _trained_in_helper_loop(loop, events, collector.helpers):
                continue  # `for epoch: train_one_epoch(...)`: the helper's own loop is the scope
            for event in events:
                if event.via is not None:
                    called_from_loops.add(_function_key(event.via.func))
            outer_zero = [
                e for level in outer_events for e in level if e.kind == ZERO_GRAD and e.loop_depth == 0
            ]
            kind = "while" if isinstance(loop, ast.While) else "for"
            scopes.append(Scope(kind, loop, events, outer_zero))


def _trained_in_helper_loop(
    outer: Union[Loop, FunctionNode], events: list[Event], helpers: dict[str, FunctionNode]
) -> bool:
    """Every backward() and step() comes from a loop inside a helper that ``outer`` calls
    (``for epoch in ...: train_one_epoch(...)``). That inner loop is a scope of its own;
    counting the epoch loop (or ``main``) too would report each problem twice."""
    training = [e for e in events if e.kind in (BACKWARD, STEP)]
    if not training or any(e.via is None for e in training):
        return False
    helper_loops = [
        inner
        for function in helpers.values()
        if function is not outer and not contains(function, outer)
        for inner in ast.walk(function)
        if isinstance(inner, LOOP_NODES)
    ]
    return all(any(contains(inner, e.node) for inner in helper_loops) for e in training)


def _loops_at_top(stmt: ast.stmt) -> Iterator[Loop]:
    """Loops in ``stmt`` that are not inside another loop of ``stmt``."""
    if isinstance(stmt, LOOP_NODES):
        yield stmt
        return
    for child in ast.iter_child_nodes(stmt):
        if isinstance(child, ast.stmt):
            yield from _loops_at_top(child)


def helper_functions(tree: ast.Module) -> dict[str, FunctionNode]:
    """Functions a loop may call by name: module-level ones and ``self.`` methods."""
    helpers: dict[str, FunctionNode] = {}
    for node in tree.body:
        if isinstance(node, _FUNCTIONS):
            helpers[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, _FUNCTIONS):
                    helpers.setdefault(f"self.{item.name}", item)
    return helpers


def _all_functions(tree: ast.Module) -> Iterator[FunctionNode]:
    for node in ast.walk(tree):
        if isinstance(node, _FUNCTIONS):
            yield node


def _function_key(node: ast.AST) -> str:
    """The name a helper is known by, whether defined (``def f``) or called (``self.f()``)."""
    if isinstance(node, _FUNCTIONS):
        return node.name
    return (dotted(node) or "").rsplit(".", 1)[-1]
