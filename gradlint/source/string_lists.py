"""Names a function binds to a literal list of strings (GL406's freezes by name): ``frozen =
{"layer1", "layer2"}`` before a loop over ``named_children()``, a parameter's default
(``def freeze(self, keep=["", "classifier"])``, also a module constant it names), and a test
with those names replaced by the literals, for :mod:`gradlint.source.name_filters` to read."""

from __future__ import annotations

import ast
import copy
from typing import Optional

from gradlint.source.dead_branches import never_taken
from gradlint.source.parameter_defaults import parameter_defaults


def string_lists(loop: ast.AST, parents: dict) -> dict[str, ast.expr]:
    """The names the function holding ``loop`` (or a call) binds once, before it, to a literal
    list, tuple or set (``frozen = {"layer1", "layer2"}``, or a parameter's default), by name."""
    scope: Optional[ast.AST] = loop
    while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        scope = parents.get(scope)
    if scope is None:
        return {}
    bound: dict[str, list[ast.expr]] = {}
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):  # def freeze(self, keep=["", "classifier"])
        for parameter, default in parameter_defaults(scope).items():
            # (``trainable=TRAINABLE_BLOCKS``: the module's constant)
            bound.setdefault(parameter, []).append(_module_literal(default, scope, parents) or default)
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bound.setdefault(node.targets[0].id, []).append(node.value)
    return {name: values[0] for name, values in bound.items()
            if len(values) == 1 and isinstance(values[0], (ast.List, ast.Tuple, ast.Set))
            and getattr(values[0], "lineno", 0) < getattr(loop, "lineno", 0)}


def _module_literal(name: ast.expr, scope: ast.AST, parents: dict) -> Optional[ast.expr]:
    """The literal list, tuple or set a module-level name is bound to once."""
    module = scope
    while module in parents:
        module = parents[module]
    if not isinstance(name, ast.Name) or not isinstance(module, ast.Module):
        return None
    values = [node.value for node in module.body if isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name.id]
    return values[0] if len(values) == 1 and isinstance(values[0], (ast.List, ast.Tuple, ast.Set)) else None


def with_lists(test: ast.expr, lists: dict[str, ast.expr]) -> ast.expr:
    """``test`` with each name of ``lists`` replaced by the literal it is bound to
    (``name.split(".")[0] in trainable`` with ``trainable=("layer4", "fc")``)."""
    class _Substitute(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.expr:
            return lists.get(node.id, node) if isinstance(node.ctx, ast.Load) else node

    return _Substitute().visit(copy.deepcopy(test)) if lists else test


def test_lists(test: ast.expr, loop: ast.AST, parents: dict) -> dict[str, ast.expr]:
    """The literals the names of ``test`` stand for where ``loop`` runs: those of
    :func:`string_lists`, module constants (``FROZEN_PREFIXES = ("features.conv0", ...)``),
    and strings a constant switch chooses (:func:`_switched_string`)."""
    lists = string_lists(loop, parents)
    for node in ast.walk(test):
        if isinstance(node, ast.Name) and node.id not in lists and (literal := _module_literal(node, loop, parents)):
            lists[node.id] = literal
        elif isinstance(node, ast.Name) and node.id not in lists \
                and (chosen := _switched_string(node.id, loop, parents, getattr(test, "lineno", 0))):
            lists[node.id] = chosen
    return lists


def _switched_string(name: str, at: ast.AST, parents: dict, line: int) -> Optional[ast.Constant]:
    """The string the function holding ``at`` binds to ``name``, before ``line``, in the one arm a constant
    switch of the file takes: ``if ENCODER == "InceptionV3": weight = "fc.weight" elif ...:
    weight = "classifier.6.weight"`` with ``ENCODER = "InceptionV3"`` at the top."""
    scope: Optional[ast.AST] = at
    while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        scope = parents.get(scope)
    tree = scope
    while tree in parents:
        tree = parents[tree]
    if scope is None or not isinstance(tree, ast.Module):
        return None
    bound = [node for node in ast.walk(scope) if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
    strings = [node.value for node in bound if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)]
    if not bound or len(strings) != len(bound):
        return None
    taken = [value for node, value in zip(bound, strings) if not never_taken(node, parents, tree)]
    return taken[0] if len(taken) == 1 and taken[0].lineno < line else None
