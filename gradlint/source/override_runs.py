"""Whether a class's ``train()`` override (one keeping a frozen part's BatchNorm in eval
mode) can run: a distiller built in the script and only asked for ``forward_train(...)``
and ``parameters()`` is never switched to train mode, so its override never puts the
teacher back in eval mode (held-out round 22, a decoupled-distillation script)."""

from __future__ import annotations

import ast

from gradlint.source.names import dotted
from gradlint.source.reaching_bindings import unwrap


def override_never_runs(cls: ast.ClassDef, tree: ast.Module, parents: dict) -> bool:
    """The file builds instances of ``cls`` (or of its subclasses in the file), binds each
    to a name, and only ever reads or calls other attributes than ``train`` on them. A
    class the file never builds (a library, or a model built elsewhere) is trusted."""
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    family = {cls.name}
    for _ in classes:  # subclasses of subclasses, a few levels
        grown = {c.name for c in classes if any((dotted(b) or "").rsplit(".", 1)[-1] in family for b in c.bases)}
        if grown <= family:
            break
        family |= grown
    builds = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
              and (dotted(node.func) or "").rsplit(".", 1)[-1] in family]
    if not builds:
        return False
    names: set[str] = set()
    for built in builds:
        statement = parents.get(built)
        while isinstance(statement, (ast.Attribute, ast.Call)):  # DKD(s, t).cuda(), .to(device)
            statement = parents.get(statement)
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name) and unwrap(statement.value) is built):
            return False  # handed on or returned as it is built: its mode may be set elsewhere
        names.add(statement.targets[0].id)
    for use in ast.walk(tree):
        if isinstance(use, ast.Name) and use.id in names and isinstance(use.ctx, ast.Load):
            parent = parents.get(use)
            if not isinstance(parent, ast.Attribute) or parent.attr == "train":
                return False  # handed to a trainer, ``fit(distiller)``, or switched: the override runs
    return True
