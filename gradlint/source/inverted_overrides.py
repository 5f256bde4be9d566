"""A ``train()`` override whose ``eval()`` is taken only when the class does not freeze
(``if mode and not self.freeze_base: <BatchNorm eval>`` beside ``if freeze_base: <freeze>``,
held-out round 42, a PANN transfer class) never keeps the frozen part in eval mode: where
the class freezes, its override leaves the BatchNorm in train mode."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.names import dotted


def evals_only_unfrozen(cls: ast.ClassDef) -> bool:
    """Every ``eval()`` of the class's ``train`` override is under a test ``not self.<flag>``
    (or ``not <flag>``) where the class freezes its parameters only when that flag is set."""
    flags = _freeze_flags(cls)
    train = next((node for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == "train"), None)
    if not flags or train is None:
        return False
    parents = {child: parent for parent in ast.walk(train) for child in ast.iter_child_nodes(parent)}
    evals = [node for node in ast.walk(train) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr == "eval"]
    return bool(evals) and all(_under_negated(call, parents, flags) for call in evals)


def _freeze_flags(cls: ast.ClassDef) -> set[str]:
    """The flags (``freeze_base``, as the parameter or ``self.`` attribute) whose ``if`` holds a
    freeze (``p.requires_grad = False``) in the class's methods."""
    flags: set[str] = set()
    for node in ast.walk(cls):
        if not (isinstance(node, ast.If) and (flag := _flag_name(node.test)) is not None):
            continue
        if any(isinstance(sub, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad"
                                                   for t in sub.targets)
               and isinstance(sub.value, ast.Constant) and sub.value.value is False
               for stmt in node.body for sub in ast.walk(stmt)):
            flags.add(flag)
    return flags


def _flag_name(test: ast.expr) -> Optional[str]:
    name = dotted(test)
    return name[len("self."):] if name and name.startswith("self.") else name if name and "." not in name else None


def _under_negated(node: ast.AST, parents: dict, flags: set[str]) -> bool:
    while node in parents:
        child, node = node, parents[node]
        if isinstance(node, ast.If) and child is not node.test:
            tests = node.test.values if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.And) \
                else [node.test]
            if child in node.body and any(isinstance(t, ast.UnaryOp) and isinstance(t.op, ast.Not)
                                          and _flag_name(t.operand) in flags for t in tests):
                return True  # if mode and not self.freeze_base: <eval>
            if child in node.orelse and _flag_name(node.test) in flags:
                return True  # if self.freeze_base: ... else: <eval>
    return False
