"""What runs on every micro-batch of an accumulation window, and where the once-per-window
code lives, for the rules that read accumulation (GL207, GL208).

An accumulation window is found by :func:`gradlint.source.accumulation.find_accumulation`.
Its *step block* is the statement list that runs once per window and holds the step:
the body of ``if (i + 1) % k == 0:``, or the scope's body after an
``if (i + 1) % k != 0: continue``, or the body after an inner ``for micro_step in range(k)``.
An event runs on *every micro-batch* when nothing but the tests that already guard the
backward() call stands between it and the micro-batch: no window test, no other ``if``.
"""

from __future__ import annotations

import ast
import re
from typing import Optional

from gradlint.source.accumulation import ACCELERATE, Accumulation
from gradlint.source.loops import BACKWARD, LOOP_NODES, STEP, Event, Scope, contains
from gradlint.source.names import dotted


def per_micro_batch(scope: Scope, window: Accumulation, event: Event, flags: bool = False) -> bool:
    """Whether ``event`` runs on every micro-batch of ``window`` (not once per window).
    ``flags``: a test of a setting that no iteration changes (``if clip_grad:``,
    ``if args.max_grad_norm > 0:``) does not stop it."""
    if window.kind == ACCELERATE or _alternating(scope):
        return False
    backward_guards = {id(guard) for other in scope.of(BACKWARD) for guard in other.guards}
    for guard in event.guards:
        if id(guard) not in backward_guards and not (flags and is_setting(scope, guard)):
            return False  # under the window test, or under a test of its own
    where = event.via or event.node
    if window.kind == "loop":
        loop = micro_batch_loop(scope, window)
        return loop is not None and contains(loop, where)
    if window.guard is not None and any(guard is window.guard for guard in window.step.guards):
        return True  # `if (i + 1) % k == 0: step`, and the event is outside that branch
    # `if (i + 1) % k != 0: continue` ahead of the step: the event must come before the `continue`
    skip = _skipping_statement(scope, window)
    return skip is not None and event.stmt in _body(scope) and _body(scope).index(event.stmt) < _body(scope).index(skip)


# words that say a test follows the window, not a setting: `sync_gradients`, `is_last_micro`
_WINDOW_WORDS = re.compile(r"sync|accum|step|last|update|micro|boundary|iter|batch|count|epoch", re.IGNORECASE)


def is_setting(scope: Scope, test: ast.expr) -> bool:
    """A test of names the loop never assigns, none named for the window (``clip_grad``,
    ``args.max_grad_norm > 0``, ``scaler is not None``)."""
    assigned = {
        dotted(target)
        for node in ast.walk(scope.node)
        for target in _targets(node)
    }
    chains = [dotted(node) for node in ast.walk(test) if isinstance(node, (ast.Name, ast.Attribute))]
    if any(chain is None for chain in chains) or any(isinstance(n, ast.Call) for n in ast.walk(test)):
        return False
    return all(
        chain.split(".", 1)[0] not in assigned and chain not in assigned and not _WINDOW_WORDS.search(chain)
        for chain in chains
        if chain is not None
    )


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        return [sub for target in node.targets for sub in ast.walk(target)]
    if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        return list(ast.walk(node.target))
    if isinstance(node, ast.NamedExpr):
        return [node.target]
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return list(ast.walk(node.optional_vars))
    return []


def _alternating(scope: Scope) -> bool:
    """Optimisers that take turns (``if i % 2 == 0: opt_d.step()`` / ``if i % 2 == 1:
    opt_g.step()``): every iteration steps one of them, nothing accumulates."""
    steps = [event for event in scope.of(STEP) if event.guards]
    return any(
        one.receiver != other.receiver and ast.dump(one.guards[-1]) != ast.dump(other.guards[-1])
        for one in steps
        for other in steps
    )


def micro_batch_loop(scope: Scope, window: Accumulation) -> Optional[ast.For]:
    """nanoGPT's ``for micro_step in range(k)``: the loop whose bound is the window's count."""
    if window.kind != "loop":
        return None
    for node in ast.walk(scope.node):
        if node is not scope.node and isinstance(node, LOOP_NODES) and isinstance(node, ast.For):
            if isinstance(node.iter, ast.Call) and node.iter.args and node.iter.args[-1] is window.count:
                return node
    return None


def step_block(scope: Scope, window: Accumulation) -> Optional[list[ast.stmt]]:
    """The statement list that runs once per window and holds the step, or None when the
    step is not a statement of its own there (inside a helper, or nested deeper)."""
    step = window.step
    if step.via is not None or step.own is None:
        return None
    if window.kind == "loop" or (window.guard is not None and not any(g is window.guard for g in step.guards)):
        body = _body(scope)  # after the micro-batch loop, or after the `continue`
        return body if step.own in body else None
    for node in ast.walk(scope.node):
        if isinstance(node, ast.If) and node.test is window.guard:
            return node.body if step.own in node.body else None
    return None


def parent_block(root: ast.AST, stmt: ast.stmt) -> Optional[list[ast.stmt]]:
    """The statement list (a body, orelse, handler or finally list) that holds ``stmt``."""
    for node in ast.walk(root):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and any(child is stmt for child in block):
                return block
    return None


def _body(scope: Scope) -> list[ast.stmt]:
    return getattr(scope.node, "body", [])


def _skipping_statement(scope: Scope, window: Accumulation) -> Optional[ast.stmt]:
    for stmt in _body(scope):
        if isinstance(stmt, ast.If) and stmt.test is window.guard:
            return stmt
    return None
