"""Gradient accumulation and the loss that is backpropagated, read from a scope's events.

Accumulation is an optimiser ``step()`` that runs only every k micro-batches while
``backward()`` runs on every one: a step under ``if (i + 1) % k == 0``,
``if step % k == k - 1``, after ``if (i + 1) % k != 0: continue``,
``if not is_accumulating`` or a counter test
(``if count == k`` / ``>= k``), or a loop body under ``accelerator.accumulate(model)``
(which scales the loss itself). The loss is followed from the backward call
(``loss.backward()``, ``scaler.scale(loss).backward()``, ``accelerator.backward(loss)``,
``self.manual_backward(loss)``) to the assignments that build it in the scope.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional, Union

from gradlint.source.function_values import own_nodes
from gradlint.source.loops import BACKWARD, SCALE, STEP, Event, Scope, contains
from gradlint.source.names import dotted
from gradlint.source.nodes import Located

ACCELERATE = "accelerate"


@dataclass
class Accumulation:
    kind: str  # "modulo" | "counter" | "loop" | ACCELERATE
    step: Event  # the guarded optimiser step
    count: Optional[ast.expr] = None  # k, the number of micro-batches per step
    guard: Optional[ast.expr] = None  # the test that guards the step


def find_accumulation(scope: Scope) -> Optional[Accumulation]:
    """How ``scope`` accumulates gradients over micro-batches, or None."""
    steps = scope.of(STEP)
    backwards = scope.of(BACKWARD)
    if not steps or not backwards:
        return None
    if any(context.endswith(".accumulate") for event in scope.events for context in event.contexts):
        return Accumulation(ACCELERATE, steps[0])
    backward_guards = {id(g) for event in backwards for g in event.guards}
    windows = []
    for step in steps:
        window = None
        for guard in step.guards:
            if id(guard) in backward_guards:
                continue
            found = _window(guard, scope.node, False)
            if found is not None and not _is_one(found[1]):
                window = Accumulation(found[0], step, found[1], guard)
        if window is None:
            window = _skipped_until_window(scope, step, backwards)
        if window is None:
            window = _micro_batch_loop(scope, step, backwards)
        if window is None:
            return None  # an optimiser steps every iteration (an EMA or second optimiser aside): no accumulation
        windows.append(window)
    return windows[0]


def _skipped_until_window(scope: Scope, step: Event, backwards: list[Event]) -> Optional[Accumulation]:
    """``if (i + 1) % k != 0: continue`` between the backward and the step: the step runs
    only on the iterations that get past the ``continue``. Every backward must come before
    the ``continue``: one after it (``if i % 2: continue`` ahead of the forward pass)
    subsamples the batches, and nothing accumulates."""
    body = getattr(scope.node, "body", [])
    if step.stmt not in body:
        return None
    for stmt in body[: body.index(step.stmt)]:
        if not (isinstance(stmt, ast.If) and stmt.body and isinstance(stmt.body[-1], ast.Continue)):
            continue
        position = body.index(stmt)
        if not all(event.stmt in body and body.index(event.stmt) < position for event in backwards):
            continue
        found = _window(stmt.test, scope.node, True)
        if found is not None and not _is_one(found[1]):
            return Accumulation(found[0], step, found[1], stmt.test)
    return None


def _micro_batch_loop(scope: Scope, step: Event, backwards: list[Event]) -> Optional[Accumulation]:
    """nanoGPT's form: every backward() inside ``for micro_step in range(k)`` and the step
    after it. Only a loop whose counter or bound says so (``accum``/``micro``): a loop that
    sums several tasks' losses before one step is not accumulation."""
    for loop in ast.walk(scope.node):
        if loop is scope.node or not isinstance(loop, (ast.For, ast.AsyncFor)):
            continue
        if not (isinstance(loop.iter, ast.Call) and dotted(loop.iter.func) == "range" and len(loop.iter.args) in (1, 2)):
            continue
        count = loop.iter.args[-1]
        words = " ".join(filter(None, (dotted(count), dotted(loop.target)))).lower()
        if ("accum" not in words and "micro" not in words) or _is_one(count) or contains(loop, step.via or step.node):
            continue
        if all(contains(loop, event.via or event.node) for event in backwards):
            return Accumulation("loop", step, count, None)
    return None



def _window(test: ast.expr, scope_node: ast.AST, negated: bool) -> Optional[tuple[str, ast.expr]]:
    """(kind, k) when ``test`` holds once every k iterations (``negated``: when it fails)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _window(test.operand, scope_node, not negated)
    if isinstance(test, ast.BoolOp):
        # `a or b` holds every k iterations if one side does; so does `a and b` (a warm-up test)
        for value in test.values:
            found = _window(value, scope_node, negated)
            if found is not None:
                return found
        return None
    if isinstance(test, ast.Name):
        assigned = _assigned_in(scope_node, test.id)
        return _window(assigned, scope_node, negated) if assigned is not None else None
    if isinstance(test, ast.BinOp) and isinstance(test.op, ast.Mod) and negated:
        return "modulo", test.right  # `not i % k`
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if _is_zero(left):
        left, right = right, left
    if isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mod) and isinstance(op, (ast.Eq, ast.NotEq)):
        # `i % k == 0`, and `step % k == k - 1` (the last micro-batch of each window)
        if isinstance(op, ast.Eq) != negated:
            return "modulo", left.right
        return None
    counter = dotted(left)
    if (
        not negated
        and counter
        and isinstance(op, (ast.Eq, ast.GtE))
        and _is_incremented(scope_node, counter)
    ):
        return "counter", right
    return None


def _assigned_in(scope_node: ast.AST, name: str) -> Optional[ast.expr]:
    for node in ast.walk(scope_node):
        if isinstance(node, ast.Assign) and any(dotted(t) == name for t in node.targets):
            return node.value
    return None


def _is_incremented(scope_node: ast.AST, name: str) -> bool:
    return any(
        isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) and dotted(node.target) == name
        for node in ast.walk(scope_node)
    )


def _is_zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0 and not isinstance(node.value, bool)


def _is_one(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 1


def backward_loss(event: Event) -> Optional[ast.expr]:
    """The loss expression a backward event backpropagates (inside ``scaler.scale``)."""
    call = event.node
    if not isinstance(call, ast.Call):
        return None
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "backward" and not call.args:
        loss = func.value  # loss.backward()
    elif call.args:
        loss = call.args[0]  # accelerator.backward(loss), self.manual_backward(loss)
    else:
        return None
    if isinstance(loss, ast.Call) and _is_cast(loss):
        loss = loss.args[1]  # typing.cast(torch.Tensor, scaler.scale(loss))
    if isinstance(loss, ast.Call) and isinstance(loss.func, ast.Attribute) and loss.func.attr == "scale" and loss.args:
        loss = loss.args[0]  # scaler.scale(loss)
    return loss


def _is_cast(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and (dotted(node.func) or "").rsplit(".", 1)[-1] == "cast"
        and len(node.args) == 2
    )


def is_scaled(node: ast.AST) -> bool:
    """``loss / k`` or ``loss * w`` at the top of an expression."""
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult, ast.FloorDiv))


def loss_assignments(scope: Scope, name: str, event: Event, tree: ast.Module) -> list[ast.stmt]:
    """Statements that assign ``name`` in the scope's code, or in the helper ``event`` was inlined from."""
    found: list[ast.stmt] = []
    roots: list[ast.AST] = [scope.node]
    if event.via is not None:
        roots += [
            node
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and contains(node, event.node)
        ]
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, ast.Assign) and any(dotted(t) == name for t in node.targets):
                found.append(node)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and dotted(node.target) == name:
                found.append(node)
    return found


def loss_is_divided(scope: Scope, event: Event, tree: ast.Module, helpers_divide: set[str]) -> bool:
    """Whether the loss ``event`` backpropagates was divided (or re-weighted) first.

    Generous on purpose: any division or multiplication of the loss, an in-place
    ``div_``, or a local helper that divides counts (a false alarm costs more than a miss).
    """
    loss = backward_loss(event)
    if loss is None or scales_gradients(scope, event):
        return True
    if is_scaled(loss):
        return True
    name = dotted(loss)
    if name is None:
        return _calls_dividing_helper(loss, helpers_divide)
    source = _context_source(scope, name)
    if source is not None:
        # `with amp.scale_loss(loss, optimizer) as scaled_loss: scaled_loss.backward()`
        return is_scaled(source) or _is_divided_name(scope, source, event, tree, helpers_divide)
    return _is_divided_name(scope, loss, event, tree, helpers_divide)


def _is_divided_name(scope: Scope, loss: ast.expr, event: Event, tree: ast.Module, helpers_divide: set[str]) -> bool:
    name = dotted(loss)
    if name is None:
        return _calls_dividing_helper(loss, helpers_divide)
    assignments = loss_assignments(scope, name, event, tree)
    if not assignments and _handed_in(tree, event, name):
        return True  # `def backward_pass(engine, loss)`: the caller made the loss, maybe divided
    if event.via is None:
        before = [stmt for stmt in assignments if stmt.lineno <= event.node.lineno]
        if before or not isinstance(scope.node, (ast.For, ast.AsyncFor, ast.While)):
            # a division written after backward() (`loss = loss / k` for logging) comes too late
            assignments = before
        else:
            # nothing in the body assigns the loss ahead of backward(): the assignment at the
            # body's end (a prefetch loop) reaches it on the next iteration, one before the loop on the first
            assignments = assignments + _assigned_before(tree, scope.node, name)
    for stmt in assignments:
        if _divides_value(stmt, helpers_divide):
            return True
    for node in ast.walk(scope.node):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("div_", "mul_"):
            if dotted(node.func.value) == name:
                return True
    return False


def _divides_value(stmt: ast.stmt, helpers_divide: set[str]) -> bool:
    if isinstance(stmt, ast.AugAssign):
        return isinstance(stmt.op, (ast.Div, ast.Mult, ast.FloorDiv))
    value = getattr(stmt, "value", None)
    return value is not None and (is_scaled(value) or _calls_dividing_helper(value, helpers_divide) or _is_sum(value))


def _is_sum(value: ast.expr) -> bool:
    """``loss = losses.sum()`` / ``torch.sum(losses)``: a summed loss, whose micro-batch sums
    add up to the window's sum; there is no per-micro-batch mean to divide."""
    return isinstance(value, ast.Call) and (dotted(value.func) or "").rsplit(".", 1)[-1] == "sum" and not value.keywords


def _assigned_before(tree: ast.Module, loop: Located, name: str) -> list[ast.stmt]:
    """Assignments of ``name`` ahead of ``loop`` in the function (or module) that holds it,
    outside nested definitions."""
    holder: Union[ast.Module, ast.FunctionDef, ast.AsyncFunctionDef] = tree
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and contains(node, loop) and node is not loop:
            if isinstance(holder, ast.Module) or node.lineno > holder.lineno:
                holder = node
    found: list[ast.stmt] = []
    for node in own_nodes(holder):
        if getattr(node, "lineno", 0) >= loop.lineno:  # type: ignore[attr-defined]
            continue
        if isinstance(node, ast.Assign) and any(dotted(t) == name for t in node.targets):
            found.append(node)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and dotted(node.target) == name:
            found.append(node)
    return found


def _context_source(scope: Scope, name: str) -> Optional[ast.expr]:
    """The loss a ``with wrapper(loss, ...) as name`` hands on under a new name."""
    for node in ast.walk(scope.node):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                call = item.context_expr
                if item.optional_vars is not None and dotted(item.optional_vars) == name and isinstance(call, ast.Call) and call.args:
                    return call.args[0]
    return None


# a helper named for rescaling the gradients, as a whole name: torchtune's `scale_grads`,
# `div_grads`, `scale_gradients`; not `unscale_grads`, `log_scale_grad_hist`, `divide_grad_norm`
_GRAD_SCALING = re.compile(r"(scale|div|divide|mul|multiply|normali[sz]e)_?grad(s|ient|ients)?_?", re.IGNORECASE)


def scales_gradients(scope: Scope, backward: Optional[Event] = None) -> bool:
    """Whether the scope rescales the accumulated gradients before the step instead of the
    loss, between ``backward`` and the step: ``training.scale_grads(model, 1 / num_tokens)``
    (torchtune), ``p.grad.div_(k)``, ``p.grad.data.mul_(w)``, ``p.grad /= k``."""
    start = _position(backward.via or backward.node) if backward is not None else None
    stops = [_position(step.via or step.node) for step in scope.of(STEP)]
    for node in ast.walk(scope.node):
        if _rescales_gradients(node) and any(_between(start, _position(node), stop) for stop in stops):
            return True
    return False


def _rescales_gradients(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        name = dotted(node.func) or ""
        receiver, _, last = name.rpartition(".")
        if _GRAD_SCALING.fullmatch(last):
            return True
        return last in ("div_", "mul_") and _is_grad(receiver)
    if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Div, ast.Mult)):
        return _is_grad(dotted(node.target) or "")
    return False


def _is_grad(name: str) -> bool:
    return name.endswith(".grad") or name.endswith(".grad.data")


def _position(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


def _between(start: Optional[tuple[int, int]], where: tuple[int, int], stop: tuple[int, int]) -> bool:
    """``where`` runs after ``start`` and before ``stop`` (around the loop when the step comes first)."""
    if start is None:
        return where < stop
    return start < where < stop if start < stop else (where > start or where < stop)


def _calls_dividing_helper(node: ast.AST, helpers_divide: set[str]) -> bool:
    return any(
        isinstance(sub, ast.Call) and (dotted(sub.func) or "").rsplit(".", 1)[-1] in helpers_divide
        for sub in ast.walk(node)
    )


def dividing_helpers(tree: ast.Module) -> set[str]:
    """Names of the file's functions that return a divided value (``return loss / k``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Return) and sub.value is not None and any(
                    is_scaled(part) for part in ast.walk(sub.value)
                ):
                    found.add(node.name)
                    break
                if isinstance(sub, (ast.AugAssign,)) and isinstance(sub.op, ast.Div):
                    found.add(node.name)
                    break
    return found


def uses_scaler(scope: Scope) -> Optional[str]:
    """The GradScaler's name when the scope scales its loss with one."""
    for event in scope.of(SCALE):
        return event.receiver
    return None


def _handed_in(tree: ast.Module, event: Event, name: str) -> bool:
    """Whether ``name`` is a parameter of the function the backward() is written in."""
    holders = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and contains(node, event.node)]
    if not holders:
        return False
    arguments = holders[-1].args
    return name in {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
