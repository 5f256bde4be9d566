"""Functions of the linted file and of the project modules it imports, read from disk
(never imported): ``project_imports`` names the modules, ``project_function`` finds the
module-level function a call reaches (``extract(...)`` defined in the file, ``from feats
import extract``, ``import feats; feats.extract(...)``, ``from feats import *``)."""

from __future__ import annotations

import ast
import re
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from gradlint.source.names import dotted
from gradlint.source.index import FileIndex, read_text
from gradlint.source.unit import SourceUnit


@dataclass(frozen=True)
class ProjectImport:
    """One name an import statement binds to a project module (never torch or site-packages)."""

    local: str  # as the file spells it: ``g``, ``engine``, ``models.pretrained``, ``*models.py`` for a star
    path: Path  # the project module the name leads to
    name: str  # the imported name in that module; "." the module itself, "*" a star import
    node: ast.stmt  # the import statement


_IMPORTS: "weakref.WeakKeyDictionary[ast.Module, tuple[Path, tuple[ProjectImport, ...]]]" = weakref.WeakKeyDictionary()


def project_import_list(tree: ast.Module, script: Path) -> tuple[ProjectImport, ...]:
    """Every import of a project module in the file, module level first, then those inside
    ``if __name__ == "__main__":``, functions and ``try`` blocks (a linter reads all of them:
    a name bound twice keeps its module-level meaning). ``from models import resnet`` binds
    the submodule ``models/resnet.py`` when that file exists and ``models/__init__.py`` does
    not define ``resnet`` itself, as Python's import does for a plain package."""
    known = _IMPORTS.get(tree)
    if known is not None and known[0] == script:
        return known[1]
    index = FileIndex()
    found: dict[str, ProjectImport] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or node.module):
            target = index.resolve_import(script, node.module or "", node.level, entry=script)
            for alias in node.names:
                if alias.name == "*":
                    if target is not None:
                        found.setdefault(f"*{target}", ProjectImport(f"*{target}", target, "*", node))
                    continue
                local = alias.asname or alias.name
                sub = _submodule(index, script, node, alias.name, target)
                if sub is not None:
                    found.setdefault(local, ProjectImport(local, sub, ".", node))
                elif target is not None:
                    source, name = _reexported(index, target, alias.name, script)
                    found.setdefault(local, ProjectImport(local, source, name, node))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = index.resolve_import(script, alias.name, 0, entry=script)
                if target is not None:
                    local = alias.asname or alias.name
                    found.setdefault(local, ProjectImport(local, target, ".", node))
                    # ``import helpers`` of a package whose __init__ runs ``from . import models``:
                    # ``helpers.models`` is that submodule
                    for submodule, path in _package_submodules(index, target, script):
                        spelled = f"{local}.{submodule}"
                        found.setdefault(spelled, ProjectImport(spelled, path, ".", node))
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
              and isinstance(node.value, ast.Call) and (dotted(node.value.func) or "").endswith("import_module")
              and len(node.value.args) == 1 and (module := _module_string(node.value.args[0], tree)) is not None
              and (target := index.resolve_import(script, module, 0, entry=script)) is not None):
            # x = import_module("models." + model_name), model_name = "TextRNN": ``import models.TextRNN as x``
            found.setdefault(node.targets[0].id, ProjectImport(node.targets[0].id, target, ".", node))
    imports = tuple(found.values())
    _IMPORTS[tree] = (script, imports)
    return imports


def _package_submodules(index: FileIndex, package: Path, script: Path) -> list[tuple[str, Path]]:
    """The submodules a package's ``__init__.py`` imports by name (``from . import models``)."""
    if package.name != "__init__.py":
        return []
    unit = SourceUnit.read_parsed(str(package))
    if unit is None or unit.tree is None:
        return []
    found: list[tuple[str, Path]] = []
    for node in unit.tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module:
            for alias in node.names:
                sub = index.resolve_import(package, alias.name, 1, entry=script)
                if sub is not None and sub != package:
                    found.append((alias.asname or alias.name, sub))
    return found


def _module_string(expr: ast.expr, tree: ast.Module) -> Optional[str]:
    """The module name an ``import_module`` argument spells: a literal, or literals and names
    bound once in the file to one, joined with ``+``."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = _module_string(expr.left, tree), _module_string(expr.right, tree)
        return left + right if left is not None and right is not None else None
    if isinstance(expr, ast.Name):
        bound = [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)]
        expr = bound[0] if len(bound) == 1 else expr
    return expr.value if isinstance(expr, ast.Constant) and isinstance(expr.value, str) else None


def _submodule(index: FileIndex, script: Path, node: ast.ImportFrom, name: str,
               package: Optional[Path]) -> Optional[Path]:
    """The module file ``from package import name`` binds, when ``name`` is a submodule."""
    module = f"{node.module}.{name}" if node.module else name
    sub = index.resolve_import(script, module, node.level, entry=script)
    if sub is None or sub == package:
        return None
    if package is not None and package.name == "__init__.py" and re.search(
            rf"^\s*(?:def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=]|"
            rf"^\s*from\s+\.\w[\w.]*\s+import\b[^\n]*\b{re.escape(name)}\b", read_text(package), re.M):
        return None  # the package's __init__ binds the name to something of its own
    return sub


def _reexported(index: FileIndex, module: Path, name: str, script: Path, depth: int = 0) -> tuple[Path, str]:
    """Where a package's ``__init__`` gets ``name`` from (``from .cnn_encoder import CNNEncoder``
    or ``from .resnet import *``), followed a few packages down; else ``(module, name)``."""
    if module.name != "__init__.py" or depth > 2:
        return module, name
    unit = SourceUnit.read_parsed(str(module))
    if unit is None or unit.tree is None:
        return module, name
    for node in unit.tree.body:
        if not (isinstance(node, ast.ImportFrom) and (node.level or node.module)):
            continue
        for alias in node.names:
            if (alias.asname or alias.name) == name or alias.name == "*":
                source = index.resolve_import(module, node.module or "", node.level, entry=script)
                if source is None or source == module:
                    continue
                wanted = name if alias.name == "*" else alias.name
                if alias.name == "*" and not re.search(rf"^(?:class|def)\s+{re.escape(wanted)}\b|^{re.escape(wanted)}\s*=",
                                                      read_text(source), re.M):
                    continue
                return _reexported(index, source, wanted, script, depth + 1)
    return module, name


def project_imports(tree: ast.Module, script: Path) -> dict[str, tuple[Path, str]]:
    """``from models.pretrained import get_model as g`` -> {"g": (models/pretrained.py, "get_model")};
    ``from models import *`` -> {"*models.py": (models.py, "*")}; ``import engine`` -> {"engine": (engine.py, ".")};
    ``from models import resnet`` (a submodule) -> {"resnet": (models/resnet.py, ".")}."""
    return {item.local: (item.path, item.name) for item in project_import_list(tree, script)}


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
