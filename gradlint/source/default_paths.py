"""The ``return`` statements a function reaches when called with only its required
arguments: its other parameters keep their defaults, so a test on them is decided.

``def forward(self, x, reconstruct=False): ...; if not reconstruct: return probs; ...;
return probs, image`` reaches only ``return probs`` when called as ``model(x)``. A test is
decided when it is a parameter with a constant default, ``not`` of one, or ``param is
None`` / ``is not None``; any other test keeps both branches. Statements after a decided
branch that always returns are not reached.

A loss trains the model in training mode, so ``self.training`` is decided too (true):
``if self.training: return probs`` / ``return probs.argmax(1)`` reaches ``return probs``.
"""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.names import dotted
from gradlint.source.parameter_defaults import unassigned_defaults

_UNKNOWN = object()


TRAINING = "self.training"  # what ``decided`` names when the training mode decided a test


def returns_with_defaults(function: ast.FunctionDef) -> tuple[list[ast.Return], tuple[tuple[int, str], ...]]:
    """The returns reached in training mode, and what decided a test on the way: the
    parameters (index after ``self``, name) whose defaults did, and ``(-1, TRAINING)``
    when ``self.training`` did (empty: no test was decided)."""
    defaults = _defaults(function)
    reached: list[ast.Return] = []
    decided: dict[str, int] = {}

    def run(body: list[ast.stmt]) -> bool:
        """Walk ``body``; True when it always returns."""
        for statement in body:
            if isinstance(statement, ast.Return):
                reached.append(statement)
                return True
            if isinstance(statement, ast.If):
                value = decide(statement.test, defaults, decided)
                if value is None:
                    taken_body, taken_else = run(statement.body), run(statement.orelse)
                    if taken_body and taken_else:
                        return True
                elif run(statement.body if value else statement.orelse):
                    return True
            else:  # loops, with, try: every return inside may be reached, none surely is
                reached.extend(node for node in _own_returns(statement))
        return False

    run(function.body)
    params = [arg.arg for arg in function.args.args[1:]]
    order = {name: -1 if name == TRAINING else params.index(name) if name in params else len(params) + 1000
             for name in decided}
    return reached, tuple(sorted(((order[name], name) for name in decided), key=lambda item: item[0]))


def _defaults(function: ast.FunctionDef) -> dict[str, object]:
    """Parameters with a constant default -> that value."""
    # (a parameter the body assigns may no longer hold its default where it is tested)
    return {name: default.value for name, default in unassigned_defaults(function).items()
            if isinstance(default, ast.Constant)}


def decide(test: ast.expr, defaults: dict[str, object], decided: dict[str, int]) -> Optional[bool]:
    """The value of an ``if`` test when ``defaults`` (name -> value) decides it; the names
    that did are added to ``decided``."""
    value = _value(test, defaults, decided)
    return None if value is _UNKNOWN else bool(value)


def _value(test: ast.expr, defaults: dict[str, object], decided: dict[str, int]) -> object:
    if isinstance(test, ast.Attribute) and test.attr == "training" and isinstance(test.value, ast.Name) \
            and test.value.id == "self":
        decided[TRAINING] = 0
        return True
    if isinstance(test, (ast.Name, ast.Attribute)) and (name := dotted(test)) in defaults:
        decided[name] = 0  # (``self.softmax`` too, for a class's constructor flag: see init_flags)
        return defaults[name]
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _value(test.operand, defaults, decided)
        return _UNKNOWN if inner is _UNKNOWN else not inner
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot))
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None):
        left = _value(test.left, defaults, decided)
        if left is _UNKNOWN:
            return _UNKNOWN
        return (left is None) == isinstance(test.ops[0], ast.Is)
    return _UNKNOWN


def _own_returns(statement: ast.stmt) -> list[ast.Return]:
    found: list[ast.Return] = []
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Return):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found
