"""Constants a flag can be read from outside the function it is used in: a class attribute
of a configuration class (``Config.encoder_finetune`` with ``class Config: encoder_finetune
= False``) or a module constant (``import config; config.fine_tune``, ``from config import
*; FREEZE``), in the linted file or in the project module it imports the name from. Read from disk, never imported."""

from __future__ import annotations

import ast
import weakref
from pathlib import Path

from gradlint.source.index import FileIndex
from gradlint.source.project_functions import project_import_list
from gradlint.source.unit import SourceUnit

UNKNOWN = object()  # no constant found
_SCRIPTS: "weakref.WeakKeyDictionary[ast.Module, Path]" = weakref.WeakKeyDictionary()


def remember_script(tree: ast.Module, path: Path) -> None:
    """Where the linted file's tree comes from, so its imports can be followed."""
    _SCRIPTS[tree] = path


def constant_attribute(tree: ast.Module, holder: str, attribute: str) -> object:
    """The constant ``holder.attribute`` holds, or :data:`UNKNOWN`."""
    found = _class_constant(tree, holder, attribute)
    script = _SCRIPTS.get(tree)
    if found is not UNKNOWN or script is None or not script.is_file():
        return found
    for item in project_import_list(tree, script):
        if item.local != holder:
            continue
        module = FileIndex().tree(item.path)
        if module is None:
            return UNKNOWN
        return _assigned_once(module.body, attribute) if item.name == "." else _class_constant(module, item.name, attribute)
    return UNKNOWN


def imported_constant(tree: ast.Module, name: str) -> object:
    """The constant a bare ``name`` holds when the linted file imports it from a project
    module (``from config import FREEZE_ENCODER``, or ``from config import *``) that binds it
    once at module level to a constant; else :data:`UNKNOWN`."""
    script = _SCRIPTS.get(tree)
    if script is None or not script.is_file():
        return UNKNOWN
    for item in project_import_list(tree, script):
        if item.name not in ("*", name) or item.name == name and item.local != name:
            continue
        unit = SourceUnit.read_parsed(str(item.path))  # (parsed once a change, for every reader)
        module = unit.tree if unit is not None else None
        found = _assigned_once(module.body, name) if module is not None else UNKNOWN
        if found is not UNKNOWN or item.name == name:
            return found
    return UNKNOWN


def _class_constant(module: ast.Module, name: str, attribute: str) -> object:
    classes = [node for node in module.body if isinstance(node, ast.ClassDef) and node.name == name]
    return _assigned_once(classes[0].body, attribute) if len(classes) == 1 else UNKNOWN


def _assigned_once(body: list[ast.stmt], name: str) -> object:
    """The constant ``name`` is bound to by the one statement of ``body`` that binds it."""
    values = [node.value for node in body
              if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
              or isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name]
    if len(values) == 1 and isinstance(values[0], ast.Constant):
        return values[0].value
    return UNKNOWN
