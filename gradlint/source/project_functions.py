"""Functions of the linted file and of the project modules it imports, read from disk
(never imported): ``project_imports`` names the modules, ``project_function`` finds the
module-level function a call reaches (``extract(...)`` defined in the file, ``from feats
import extract``, ``import feats; feats.extract(...)``, ``from feats import *``)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from gradlint.source.index import FileIndex
from gradlint.source.unit import SourceUnit


def project_imports(tree: ast.Module, script: Path) -> dict[str, tuple[Path, str]]:
    """``from models.pretrained import get_model as g`` -> {"g": (models/pretrained.py, "get_model")};
    ``from models import *`` -> {"*models.py": (models.py, "*")}; ``import engine`` -> {"engine": (engine.py, ".")}."""
    index = FileIndex()
    found: dict[str, tuple[Path, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.level or node.module):
            target = index.resolve_import(script, node.module or "", node.level, entry=script)
            if target is not None:
                found.update((alias.asname or alias.name, (target, alias.name)) if alias.name != "*"
                             else (f"*{target}", (target, "*")) for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = index.resolve_import(script, alias.name, 0, entry=script)
                if target is not None:
                    found[alias.asname or alias.name] = (target, ".")
    return found


def project_function(name: str, tree: ast.Module,
                     script: Path) -> Optional[tuple[ast.FunctionDef, ast.Module, Optional[Path]]]:
    """The module-level function ``name`` calls, with the tree it is in and that module's
    path (None: the linted file itself)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node, tree, None
    if not script.is_file():
        return None
    head, _, tail = name.partition(".")
    for local, (module, imported) in project_imports(tree, script).items():
        wanted = (tail if local == head and imported == "." else name if imported == "*" and not tail
                  else imported if local == name and not tail else None)
        unit = SourceUnit.read_parsed(str(module)) if wanted else None
        if unit is None or unit.tree is None:
            continue
        for node in unit.tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == wanted:
                return node, unit.tree, module
    return None
