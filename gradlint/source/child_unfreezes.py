"""Children made trainable again by a loop over them (GL406): ``for name, module in
model.named_children(): if name in ["layer4", "fc"]: for p in module.parameters():
p.requires_grad = True``. Which children a test on the name picks is read where
:mod:`gradlint.source.name_filters` can; otherwise some are, which ones unknown."""

from __future__ import annotations

import ast
from typing import Callable, Optional, Sequence

from gradlint.source.name_filters import frozen_children_by_name
from gradlint.source.freeze_facts import Freeze
from gradlint.source.freeze_forms import LATER_CHILDREN
from gradlint.source.names import dotted

_CHILD_LISTINGS = frozenset({"children", "named_children", "modules", "named_modules"})


def unfrozen_children(parents: dict, loop: ast.AST, owner: str) -> Optional[list[str]]:
    """The children of ``model`` made trainable again when ``owner`` is the variable of a
    loop around ``loop`` over them: ``for name, module in model.named_children(): if name
    in ["layer4", "fc"]: for p in module.parameters(): p.requires_grad = True`` gives
    ``model.layer4`` and ``model.fc``; a test not read (``if unfreeze:``, a flag the loop
    sets on the way) gives ``model.<children>``, some of them, which ones unknown."""
    tests: list[ast.expr] = []
    node = parents.get(loop)
    while node is not None and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(node, ast.If):
            tests.append(node.test)
        if isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(it := node.iter, ast.Call) \
                and isinstance(it.func, ast.Attribute) and it.func.attr in _CHILD_LISTINGS \
                and (variable := node.target.elts[-1] if isinstance(node.target, ast.Tuple) else node.target) \
                and isinstance(variable, ast.Name) and variable.id == owner and (model := dotted(it.func.value)):
            name = node.target.elts[0] if isinstance(node.target, ast.Tuple) else None
            named = frozen_children_by_name(tests[0], name.id, False) \
                if len(tests) == 1 and isinstance(name, ast.Name) and it.func.attr == "named_children" else None
            if not named and isinstance(name, ast.Name) and len(tests) == 1 and _switched_on_at_a_name(node, tests[0], name.id):
                return [f"{model}.{LATER_CHILDREN}"]
            return [f"{model}.{child}" for child in named] if named else [f"{model}.<children>"]
        node = parents.get(node)
    return None


def _switched_on_at_a_name(loop: ast.AST, test: ast.expr, name: str) -> bool:
    """``if unfreeze:`` whose flag the loop turns on when the child's name is reached (``if
    name == unfreeze_from: unfreeze = True``) and never turns off in it."""
    if not isinstance(test, ast.Name):
        return False
    sets = [node for node in ast.walk(loop) if isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and node.targets[0].id == test.id]
    return bool(sets) and all(isinstance(node.value, ast.Constant) and node.value.value is True for node in sets) and any(
        isinstance(branch, ast.If) and isinstance(branch.test, ast.Compare) and isinstance(branch.test.left, ast.Name)
        and branch.test.left.id == name and isinstance(branch.test.ops[0], ast.Eq) and any(node in branch.body for node in sets)
        for branch in ast.walk(loop))


def children_after_freeze(frame_of: Callable[[ast.AST], Optional[ast.AST]], parents: dict, freezes: Sequence[Freeze],
                          loop: ast.AST, owner: str) -> Optional[list[str]]:
    """The children :func:`unfrozen_children` reads, where the function holding ``loop`` froze
    their model first (the recipe "freeze all, then the last blocks"); a method doing it alone
    (``unfreeze_stage(stage)``) depends on how it is called, and is not read."""
    children = unfrozen_children(parents, loop, owner)
    frame = frame_of(loop)
    models = {child.rpartition(".")[0] for child in children or []}
    return children if any(f.target in models and frame_of(f.node) is frame for f in freezes) else None
