"""The last layer of an ``nn.Sequential(*layers)`` built from a list (GL215): ``layers =
[nn.Flatten()]``, layers appended in a loop, then ``layers.append(nn.Linear(16, 10))`` and
``layers.append(nn.Softmax(dim=1))`` before ``nn.Sequential(*layers)``: the model ends in
the softmax (also a list kept as ``self.layers``). Read from the statements that run before the call in its block (and the
blocks around it); a loop or a branch changing the list after its last known item leaves
the last layer unknown.

Noted once per file by :mod:`torch_calls` (which knows the ``nn.Sequential`` calls) and
read through :func:`gradlint.source.activations.sequential_last`."""

from __future__ import annotations

import ast
import weakref
from typing import Optional

from gradlint.source.function_values import own_nodes, statements_before
from gradlint.source.names import dotted

_LAST: "weakref.WeakKeyDictionary[ast.Call, ast.expr]" = weakref.WeakKeyDictionary()
# ``if softmax: layers.append(nn.Softmax(dim=-1))`` as the last change: the layer and the flag
_GUARDED: "weakref.WeakKeyDictionary[ast.Call, tuple[ast.expr, str]]" = weakref.WeakKeyDictionary()


def note_starred_sequentials(tree: ast.Module, sequentials: list[ast.Call]) -> None:
    """Note the last layer of each ``nn.Sequential(*name)`` of ``sequentials`` that can be read."""
    wanted = {id(call) for call in sequentials if call.args and isinstance(call.args[-1], ast.Starred)
              and _listed(call.args[-1].value)}
    if not wanted:
        return
    frames = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]
    for frame in frames:
        for node in own_nodes(frame):
            if isinstance(node, ast.Call) and id(node) in wanted:
                starred = node.args[-1]
                assert isinstance(starred, ast.Starred) and (listed := _listed(starred.value))
                before = statements_before(frame, starred.value)
                last = _last_item(before, listed)
                if last is not None:
                    _LAST[node] = last
                elif before and (guarded := _guarded_append(before[-1], listed)) is not None:
                    _GUARDED[node] = guarded


def starred_last(call: ast.Call) -> Optional[ast.expr]:
    """The last layer noted for ``nn.Sequential(*name)``, or None."""
    return _LAST.get(call)


def starred_guarded(call: ast.Call) -> Optional[tuple[ast.expr, str]]:
    """The layer ``nn.Sequential(*name)`` ends with when a flag is true, and the flag, for
    ``if softmax: layers.append(nn.Softmax(dim=-1))`` right before the call; or None."""
    return _GUARDED.get(call)


def _guarded_append(statement: ast.stmt, name: str) -> Optional[tuple[ast.expr, str]]:
    if not (isinstance(statement, ast.If) and not statement.orelse and isinstance(statement.test, ast.Name)
            and len(statement.body) == 1 and isinstance(only := statement.body[0], ast.Expr)):
        return None
    call = only.value
    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "append"
            and dotted(call.func.value) == name and len(call.args) == 1):
        return call.args[0], statement.test.id
    return None


def _last_item(before: list[ast.stmt], name: str) -> Optional[ast.expr]:
    """What the list ``name`` ends with after ``before`` run, read backwards."""
    for statement in reversed(before):
        if isinstance(statement, ast.Expr) and isinstance(call := statement.value, ast.Call) \
                and isinstance(call.func, ast.Attribute) and dotted(call.func.value) == name:
            method = call.func.attr
            if method == "append" and len(call.args) == 1:
                return call.args[0]
            if method == "extend" and len(call.args) == 1 and isinstance(call.args[0], (ast.List, ast.Tuple)):
                return _literal_last(call.args[0])
            return None  # insert, pop, reverse...: not followed
        if isinstance(statement, ast.AugAssign) and dotted(statement.target) == name:
            return _literal_last(statement.value) if isinstance(statement.value, (ast.List, ast.Tuple)) else None
        if isinstance(statement, ast.Assign) and any(dotted(t) == name for t in statement.targets):
            return _literal_last(statement.value) if isinstance(statement.value, (ast.List, ast.Tuple)) else None
        if any(isinstance(n, (ast.Name, ast.Attribute)) and dotted(n) == name for n in ast.walk(statement)):
            return None  # a loop, a branch or a call that may change it
    return None


def _listed(value: ast.expr) -> Optional[str]:
    """The list a star unpacks: ``layers``, or ``self.layers`` (a list kept on the module
    before ``self.model = nn.Sequential(*self.layers)``)."""
    name = dotted(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
    return name if name and (isinstance(value, ast.Name) or name.count(".") == 1 and name.startswith("self.")) else None


def _literal_last(value: ast.expr) -> Optional[ast.expr]:
    elements = getattr(value, "elts", [])
    return elements[-1] if elements and not isinstance(elements[-1], ast.Starred) else None
