"""The events of a training step, in execution order: what ``EventCollector`` records
while it walks a loop body or a step function (local helpers and ``step(closure)``
closures inlined). ``loops`` picks the scopes and hands each its events."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterator, Optional, Union

from gradlint.source.names import Names, dotted
from gradlint.source.nodes import contains

# Event kinds, in the vocabulary of a training step.
ZERO_GRAD = "zero_grad"
FORWARD = "forward"
LOSS = "loss"
LOSS_DIV = "loss_div"  # the loss divided or multiplied by a constant
SCALE = "scale"  # scaler.scale(loss)
BACKWARD = "backward"
UNSCALE = "unscale"
CLIP = "clip"
STEP = "step"
SCHEDULER_STEP = "scheduler_step"
SCALER_UPDATE = "scaler_update"

CLIP_FUNCTIONS = {
    "torch.nn.utils.clip_grad_norm_",
    "torch.nn.utils.clip_grad_value_",
    "torch.nn.utils.clip_grad_norm",
    "torch.nn.utils.clip_grad.clip_grad_norm_",
    "torch.nn.utils.clip_grad.clip_grad_value_",
    "torch.nn.utils.clip_grad_norm_.clip_grad_norm_",
}
CLIP_METHODS = {"clip_grad_norm_", "clip_grad_value_", "clip_gradients"}
BACKWARD_METHODS = {"backward", "manual_backward"}
# a call whose name says it clears gradients: reset_grads(optimizer), zero_grad(params)
CLEARING_NAME = re.compile(r"(zero|clear|reset)_?grad", re.IGNORECASE)

Loop = Union[ast.For, ast.AsyncFor, ast.While]
FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)

@dataclass
class Event:
    kind: str
    node: Union[ast.stmt, ast.expr]  # the call or statement that is the event
    stmt: ast.stmt  # the statement in the scope's own code that contains it
    receiver: Optional[str] = None  # "optimizer" in optimizer.step()
    guards: tuple[ast.expr, ...] = ()  # tests of the enclosing ifs, innermost last
    contexts: tuple[str, ...] = ()  # qualified names of enclosing `with` items
    loop_depth: int = 0  # loops nested inside the scope around the event
    via: Optional[ast.Call] = None  # the call site when inlined from a helper
    own: Optional[ast.stmt] = None  # the innermost statement holding the event (for fixes)


class EventCollector:
    """Walks statements in execution order and records events."""

    def __init__(self, names: Names, helpers: dict[str, FunctionNode], tree: Optional[ast.Module] = None) -> None:
        self.names = names
        self.helpers = helpers
        self.tree = tree  # to find closures defined in the function around a loop
        self.local_defs: dict[str, FunctionNode] = {}  # functions defined in the scope so far (closures)

    def collect_scope(self, body: list[ast.stmt], inlining: frozenset = frozenset()) -> list[Event]:
        self.local_defs = {}
        return self.collect(body, inlining)

    def collect(self, body: list[ast.stmt], _inlining: frozenset = frozenset()) -> list[Event]:
        events: list[Event] = []
        for stmt in body:
            self._statement(stmt, stmt, events, (), (), 0, None, _inlining)
        return events

    def _statement(self, stmt, top, events, guards, contexts, depth, via, inlining) -> None:
        self._own = stmt  # header expressions of compound statements belong to them
        if isinstance(stmt, _FUNCTIONS + (ast.ClassDef,)):
            if isinstance(stmt, _FUNCTIONS):
                self.local_defs[stmt.name] = stmt
            return  # definitions run later, if at all
        if isinstance(stmt, ast.If):
            self._expression(stmt.test, top, events, guards, contexts, depth, via, inlining)
            inner = guards + (stmt.test,)
            for child in stmt.body:
                self._statement(child, top, events, inner, contexts, depth, via, inlining)
            negated = guards + (ast.UnaryOp(op=ast.Not(), operand=stmt.test),)
            for child in stmt.orelse:
                self._statement(child, top, events, negated, contexts, depth, via, inlining)
            return
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            inner = contexts
            for item in stmt.items:
                self._expression(item.context_expr, top, events, guards, contexts, depth, via, inlining)
                func = item.context_expr.func if isinstance(item.context_expr, ast.Call) else item.context_expr
                inner = inner + (self.names.qualify(func) or "",)
            for child in stmt.body:
                self._statement(child, top, events, guards, inner, depth, via, inlining)
            return
        if isinstance(stmt, LOOP_NODES):
            head = stmt.iter if isinstance(stmt, (ast.For, ast.AsyncFor)) else stmt.test
            self._expression(head, top, events, guards, contexts, depth, via, inlining)
            for child in stmt.body + stmt.orelse:
                self._statement(child, top, events, guards, contexts, depth + 1, via, inlining)
            return
        if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            for child in stmt.body + [h for handler in stmt.handlers for h in handler.body] + stmt.orelse + stmt.finalbody:
                self._statement(child, top, events, guards, contexts, depth, via, inlining)
            return
        if type(stmt).__name__ == "Match":
            for case in stmt.cases:
                for child in case.body:
                    self._statement(child, top, events, guards, contexts, depth, via, inlining)
            return
        for part in ast.iter_child_nodes(stmt):
            if isinstance(part, ast.expr):
                self._own = stmt
                self._expression(part, top, events, guards, contexts, depth, via, inlining)
        self._own = stmt
        self._assignment_events(stmt, top, events, guards, contexts, depth, via)

    def _assignment_events(self, stmt, top, events, guards, contexts, depth, via) -> None:
        def add(kind: str, node: Union[ast.stmt, ast.expr], receiver: Optional[str] = None) -> None:
            events.append(Event(kind, node, top, receiver, guards, contexts, depth, via, stmt))

        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                for sub in ast.walk(target):
                    # p.grad = None clears a gradient as zero_grad(set_to_none=True) does
                    if isinstance(sub, ast.Attribute) and sub.attr == "grad" and _is_none(stmt.value):
                        add(ZERO_GRAD, stmt, dotted(sub.value))
            names = [dotted(t) for t in stmt.targets]
            if any(n and "loss" in n.lower() for n in names):
                kind = LOSS_DIV if _divides(stmt.value, names) else LOSS
                add(kind, stmt, names[0])
        elif isinstance(stmt, ast.AugAssign):
            name = dotted(stmt.target)
            if name and "loss" in name.lower() and isinstance(stmt.op, (ast.Div, ast.Mult, ast.FloorDiv)):
                add(LOSS_DIV, stmt, name)

    def _expression(self, expr, top, events, guards, contexts, depth, via, inlining) -> None:
        # post-order: a call's arguments and receiver run before the call itself
        for call in _calls_in_order(expr):
            self._call(call, top, events, guards, contexts, depth, via, inlining)

    def _call(self, call: ast.Call, top, events, guards, contexts, depth, via, inlining) -> None:
        own = self._own

        def add(kind: str, receiver: Optional[str] = None) -> None:
            events.append(Event(kind, call, top, receiver, guards, contexts, depth, via, own))

        func = self._partial_target(call.func)
        qualified = self.names.qualify(func) or ""
        if qualified.startswith("torch.distributed.autograd."):
            return  # dist_autograd keeps gradients per context, never in .grad: nothing to clear or clip
        method = func.attr if isinstance(func, ast.Attribute) else None
        receiver = dotted(func.value) if isinstance(func, ast.Attribute) else None
        receiver_kind = self.names.kind_of(receiver)

        if qualified in CLIP_FUNCTIONS or (method in CLIP_METHODS and receiver_kind != "optimizer"):
            add(CLIP, receiver)
        elif method in BACKWARD_METHODS or qualified == "torch.autograd.backward":
            add(BACKWARD, receiver)
        elif method == "zero_grad":
            add(ZERO_GRAD, receiver)
        elif method == "unscale_":
            add(UNSCALE, receiver)
        elif method == "scale" and receiver_kind == "scaler":
            add(SCALE, receiver)
        elif method == "update" and receiver_kind == "scaler":
            add(SCALER_UPDATE, receiver)
        elif method == "step":
            if receiver_kind == "scaler" and call.args:
                add(STEP, dotted(call.args[0]))  # scaler.step(optimizer) steps the optimizer
            elif receiver_kind == "optimizer":
                closure = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "closure"), None)
                partial = closure if isinstance(closure, ast.Name) else None
                if partial is not None and isinstance(self._partial_target(partial), ast.Name):
                    closure = self._partial_target(partial)  # fn = functools.partial(fn_base, optimizer_c, ...)
                name = closure.id if isinstance(closure, ast.Name) else None
                local = self.local_defs.get(name or "")
                function = local or (self.helpers.get(name) if name else None) or self._enclosing_def(name, call)
                bound = self._partial_arguments(partial, function) if partial is not None and function else {}
                if function is not None and function.name not in inlining:
                    # LBFGS: step(closure) runs the closure's zero_grad/backward first
                    start = len(events)
                    self._inline(function, call, top, events, guards, contexts, depth, via if local else via or call, inlining)
                    for event in events[start:]:
                        root, dot, rest = (event.receiver or "").partition(".")
                        if root in bound:
                            event.receiver = bound[root] + dot + rest
                add(STEP, receiver)
            elif receiver_kind == "scheduler":
                add(SCHEDULER_STEP, receiver)
        elif method == "zero_" and receiver and receiver.endswith(".grad"):
            add(ZERO_GRAD, receiver)  # p.grad.zero_()
        else:
            helper = self._helper(func)
            if helper is not None and helper.name not in inlining:
                self._inline(helper, call, top, events, guards, contexts, depth, via or call, inlining)
            elif self._is_model_call(func):
                add(FORWARD, dotted(func))
            elif CLEARING_NAME.search((dotted(func) or "").rsplit(".", 1)[-1]):
                add(ZERO_GRAD)  # zero_grad(params) from another module: a clear of unknown reach

    def _enclosing_def(self, name: Optional[str], call: ast.Call) -> Optional[FunctionNode]:
        """``def closure()`` written in the function around the loop that calls ``step(closure)``."""
        if name is None or self.tree is None:
            return None
        around = [f for f in ast.walk(self.tree) if isinstance(f, _FUNCTIONS) and contains(f, call)]
        for holder in reversed(around):
            found = [d for d in holder.body if isinstance(d, _FUNCTIONS) and d.name == name and d.lineno < call.lineno]
            if found:
                return found[-1]
        return None

    def _partial_arguments(self, func: ast.expr, function: FunctionNode) -> dict[str, str]:
        """The parameters of ``function`` that ``func = functools.partial(function, a, b)`` binds, to the names handed."""
        binding = self.names.bindings.get(dotted(func) or "")
        if binding is None or binding.call != "functools.partial" or not isinstance(binding.node, ast.Call):
            return {}
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        handed = [dotted(arg) for arg in binding.node.args[1:]]
        return {param: name for param, name in zip(params, handed) if name is not None}

    def _partial_target(self, func: ast.expr) -> ast.expr:
        """``clear = functools.partial(optimizer.zero_grad, set_to_none=True)``: a call of
        ``clear()`` is a call of ``optimizer.zero_grad``."""
        binding = self.names.bindings.get(dotted(func) or "")
        if binding is not None and binding.call == "functools.partial" and isinstance(binding.node, ast.Call):
            if binding.node.args:
                return binding.node.args[0]
        return func

    def _inline(self, function, call, top, events, guards, contexts, depth, via, inlining) -> None:
        own = self._own
        for event in self.collect(function.body, inlining | {function.name}):
            event.stmt = top
            event.guards = guards + event.guards
            event.contexts = contexts + event.contexts
            event.loop_depth += depth
            event.via = via
            events.append(event)
        self._own = own

    def _helper(self, func: ast.AST) -> Optional[FunctionNode]:
        name = dotted(func)
        if name is None:
            return None
        if name.startswith("self.") and name.count(".") == 1:
            return self.helpers.get(name)
        return self.helpers.get(name) if "." not in name else None

    def _is_model_call(self, func: ast.AST) -> bool:
        name = dotted(func)
        if name is None:
            return False
        if name == "self" or any(b.params_of == name for b in self.names.bindings.values()):
            return True
        return name.rsplit(".", 1)[-1].lower() in ("model", "net", "network", "module")

def _calls_in_order(expr: ast.AST) -> Iterator[ast.Call]:
    """Calls in ``expr`` in evaluation order (receivers and arguments first)."""
    if isinstance(expr, (ast.Lambda,) + _FUNCTIONS):
        return
    for child in ast.iter_child_nodes(expr):
        yield from _calls_in_order(child)
    if isinstance(expr, ast.Call):
        yield expr


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _divides(value: ast.AST, targets: list[Optional[str]]) -> bool:
    """``loss = loss / k`` (or ``* (1 / k)``) rescales the loss already computed."""
    return (
        isinstance(value, ast.BinOp)
        and isinstance(value.op, (ast.Div, ast.Mult, ast.FloorDiv))
        and dotted(value.left) in targets
    )
