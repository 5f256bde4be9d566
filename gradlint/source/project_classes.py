"""Classes of the project's own modules, found through the file's imports with the
index's one resolver: ``from sched import WarmupCosine`` (or ``from .sched import ...``,
``import utils.sched as S``) names a class defined in a project file, whose bases a rule
may then read. Nothing is imported or run; site-packages are never read.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from gradlint.source.index import FileIndex
from gradlint.source.names import collect_aliases, dotted, qualify

_MAX_DEPTH = 3  # re-exports and base classes followed this many files deep


@dataclass
class ProjectClass:
    """A class defined at module level in a project file."""

    node: ast.ClassDef
    tree: ast.Module
    path: Path


def project_class(callee: ast.expr, tree: ast.Module, path: Path, index: FileIndex,
                  entry: Optional[Path] = None, depth: int = 0) -> Optional[ProjectClass]:
    """The project class ``callee`` (``Name``, ``mod.Name``) names in the file ``path``:
    defined there at module level, or imported from a project module; None otherwise."""
    name = dotted(callee)
    if name is None or depth > _MAX_DEPTH:
        return None
    head, _, rest = name.partition(".")
    if not rest:
        local = _defined(tree, head)
        if local is not None:
            return ProjectClass(local, tree, path)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) != head:
                    continue
                module = f"{node.module}.{alias.name}" if node.module and rest else node.module or ""
                if rest and not node.module:
                    module = alias.name  # from . import sched; sched.Warmup
                wanted = rest or alias.name
                found = _class_in(index.resolve_import(path, module, node.level, entry), wanted, index, entry, depth)
                if found is not None:
                    return found
        if isinstance(node, ast.ImportFrom) and not rest and [a.name for a in node.names] == ["*"] and node.module:
            # from VGG_loss import *: a class that module defines (or passes on) by that name
            found = _class_in(index.resolve_import(path, node.module, node.level, entry), head, index, entry, depth)
            if found is not None:
                return found
        elif isinstance(node, ast.Import) and rest:
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound != head:
                    continue
                dotted_module, _, wanted = (f"{alias.name}.{rest}" if alias.asname else name).rpartition(".")
                found = _class_in(index.resolve_import(path, dotted_module, 0, entry), wanted, index, entry, depth)
                if found is not None:
                    return found
    return None


def built_class(built: ast.AST, callee: str, tree: ast.Module, path: Path, index: FileIndex) -> Optional[ProjectClass]:
    """The class a name was built from (``built``: the call, ``callee``: its qualified
    name) when it is the project's own: a class of the file (at any depth), or one
    imported from a project module."""
    if "." not in callee:
        local = next((n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == callee), None)
        if local is not None:
            return ProjectClass(local, tree, path)
    return project_class(built.func, tree, path, index) if isinstance(built, ast.Call) else None


def lineage(found: ProjectClass, index: FileIndex, entry: Optional[Path] = None) -> list[ProjectClass]:
    """The class and the project classes it derives from (``Warmup(CosineBase)``,
    ``CosineBase(_LRScheduler)`` -> both), nearest first; library bases end the walk."""
    chain = [found]
    pending = [found]
    while pending and len(chain) <= _MAX_DEPTH:
        current = pending.pop(0)
        for base in current.node.bases:
            parent = project_class(base, current.tree, current.path, index, entry, 1)
            if parent is not None and all(parent.node is not known.node for known in chain):
                chain.append(parent)
                pending.append(parent)
    return chain


def base_names(chain: list[ProjectClass]) -> list[str]:
    """The qualified names of the bases of every class of ``chain`` (see ``lineage``)."""
    names: list[str] = []
    for found in chain:
        aliases = collect_aliases(found.tree)
        names += [name for name in (qualify(base, aliases) for base in found.node.bases) if name]
    return names


def _defined(tree: ast.Module, name: str) -> Optional[ast.ClassDef]:
    return next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)


def _class_in(path: Optional[Path], name: str, index: FileIndex, entry: Optional[Path], depth: int) -> Optional[ProjectClass]:
    """Class ``name`` of the project file ``path``: defined there, or re-exported by an import."""
    if path is None:
        return None
    tree = index.tree(path)
    if tree is None:
        return None
    return project_class(ast.Name(id=name, ctx=ast.Load()), tree, path, index, entry, depth + 1)


_MOVES = frozenset({"to", "cuda", "cpu"})


def kept_from_parameter(cls: ast.ClassDef, attr: str) -> Optional[tuple[int, str, list[str]]]:
    """The ``__init__`` parameter ``self.<attr>`` is made of, by position (not counting
    ``self``) and name, and the part of it kept: ``self.cnn = backbone`` -> ``[]``,
    ``self.cnn = backbone.features`` -> ``["features"]``, and the layers of it
    (``nn.Sequential(*list(backbone.children())[:-2])``) -> ``[]``; else None."""
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is None:
        return None
    params = [a.arg for a in init.args.args[1:]]
    for node in ast.walk(init):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and dotted(node.targets[0]) == f"self.{attr}"):
            continue
        value = node.value
        while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _MOVES:
            value = value.func.value  # nn.Sequential(...).to("cuda")
        if (isinstance(value, ast.Call) and (dotted(value.func) or "").rpartition(".")[2] in ("ModuleDict", "ModuleList")
                and len(value.args) == 1 and not value.keywords and isinstance(value.args[0], ast.Name)):
            value = value.args[0]  # nn.ModuleDict(teachers): the modules handed in
        if isinstance(value, ast.Call) and (dotted(value.func) or "").endswith("Sequential") and len(value.args) == 1 \
                and isinstance(value.args[0], ast.Starred):
            value = value.args[0].value
            while isinstance(value, ast.Subscript):
                value = value.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "list" and value.args:
                value = value.args[0]
            if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                    and value.func.attr in ("children", "modules")):
                return None
            value = value.func.value
        name = dotted(value) or ""
        root, *parts = name.split(".") if name else [""]
        if root in params:
            return params.index(root), root, parts
        return None
    return None
