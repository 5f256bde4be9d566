"""Freezes under a numeric test of a parameter (``if k != 1: <freeze>``, ``if freeze_at >= 0:
self._freeze_parameters(self.conv1)``): the test a factory's freeze needs, and whether a call
of the factory passes (or leaves at its default) a number that makes it true."""

from __future__ import annotations

import ast
import operator
from typing import Optional

from gradlint.source.call_arguments import argument, unpacked_argument
from gradlint.source.call_flags import parameter_default

# a freeze under a numeric test of a parameter: (its position, its name, the test, the number, its default)
Compare = tuple[int, str, str, int, Optional[int]]
_TESTS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_HOLDS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_OPPOSITE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def numeric_guard(node: ast.AST, function: ast.FunctionDef, parents: dict) -> Optional[Compare]:
    """``if k != 1: <freeze>`` in ``def build(model_type, k=1)``: the test on the parameter that
    decides whether ``node`` runs (its ``else`` arm: the opposite test); None otherwise."""
    params = [a.arg for a in function.args.args]
    child = node
    while child in parents and child is not function:
        parent = parents[child]
        if (isinstance(parent, ast.If) and (child in parent.body or child in parent.orelse)
                and isinstance(test := parent.test, ast.Compare) and len(test.ops) == 1
                and isinstance(test.left, ast.Name) and test.left.id in params and type(test.ops[0]) in _TESTS
                and isinstance(number := test.comparators[0], ast.Constant) and type(number.value) is int):
            index, default = parameter_default(function, test.left.id)
            test_text = _TESTS[type(test.ops[0])]
            if child in parent.orelse:
                test_text = _OPPOSITE[test_text]
            known = default.value if isinstance(default, ast.Constant) and type(default.value) is int else None
            return index, test.left.id, test_text, number.value, known
        child = parent
    return None


def numeric_guard_holds(call: ast.Call, guard: Compare, tree: Optional[ast.Module] = None) -> Optional[bool]:
    """Whether ``call`` passes (or leaves at its default) a number that makes the test true
    (also inside ``**options`` of a dict literal ``tree`` binds); None when the value is not a
    number written there."""
    index, parameter, test, number, default = guard
    passed = argument(call, index, parameter)
    if passed is None:
        passed = unpacked_argument(call, parameter, tree)
    if (isinstance(passed, ast.UnaryOp) and isinstance(passed.op, ast.USub) and isinstance(passed.operand, ast.Constant)
            and type(passed.operand.value) is int):
        passed = ast.Constant(-passed.operand.value)  # freeze_at=-1
    value = default if passed is None else passed.value if isinstance(passed, ast.Constant) else None
    if type(value) is not int:
        return None
    return bool(_HOLDS[test](value, number))
