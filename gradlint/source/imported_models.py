"""Module-level models a project module builds and a file imports by name (GL406):
``model = hub.load("pytorch/vision", "mobilenet_v3_large")`` in ``load_model.py`` and
``from load_model import model`` in the file that freezes it. Course projects split one
script into such steps (load, freeze, train); the BatchNorm of ``model`` is read in the
module that builds it (never imported).

Also the momentum (EMA) copies an imported class keeps: ``model = BYOL()`` of a project
module whose ``update_target`` moves ``self.target`` toward ``self.online`` holds a
``model.target`` that is meant to run in train mode (:mod:`momentum_copies`)."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

from gradlint.source.freeze_forms import holds
from gradlint.source.frozen_norms import FileNorms, own_norms
from gradlint.source.index import file_stamp, read_text
from gradlint.source.momentum_copies import momentum_targets
from gradlint.source.names import dotted
from gradlint.source.reaching_bindings import unwrap
from gradlint.source.project_functions import ProjectImport, project_import_list
from gradlint.source.table_calls import dict_table
from gradlint.source.unit import SourceUnit

_BUILDS = ("torchvision", "timm", "hub.load", "BatchNorm", "models.")  # a module without these builds none


def mark_imported_models(norms: FileNorms, script: Path) -> None:
    """Add the names ``script`` imports from project modules that hold a model with
    BatchNorm there to ``norms.knowledge.imported_bn``."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    by_module: dict[Path, list[ProjectImport]] = {}
    for item in project_import_list(tree, script):
        if item.name not in (".", "*"):
            by_module.setdefault(item.path, []).append(item)
    for target, items in by_module.items():
        text = read_text(target)
        wanted = tuple(sorted({item.name for item in items if re.search(rf"^{re.escape(item.name)}\s*=", text, re.M)}))
        if not wanted:
            continue
        # ``from models import model_dict``, then ``model_dict[opt.model]()``: which entries build BatchNorm
        for item in items:
            if re.search(rf"^{re.escape(item.name)}\s*=\s*(\{{|dict\()", text, re.M):
                entries = _table_with_batchnorm(str(target), file_stamp(target), item.name)
                if entries:
                    norms.knowledge.imported_tables[item.local] = entries
        if not any(word in text for word in _BUILDS):
            continue
        built = _models_with_batchnorm(str(target), file_stamp(target), wanted)
        norms.knowledge.imported_bn.update(item.local for item in items if item.name in built)


@functools.lru_cache(maxsize=256)
def _table_with_batchnorm(path: str, stamp: tuple[int, int], name: str) -> dict[str, bool]:
    """{key: whether calling its entry builds BatchNorm} for the dict literal ``name`` is bound
    to once at the module level of ``path`` (``model_dict = {"SCCNet22": SCCNet22, ...}``)."""
    unit = SourceUnit.read_parsed(path)
    table = dict_table(name, None, unit.tree) if unit is not None and unit.tree is not None else None
    if unit is None or not table:
        return {}
    knowledge = own_norms(unit).knowledge
    assert knowledge is not None
    return {key: knowledge.value_has_batchnorm(ast.copy_location(ast.Call(entry, [], []), entry), "", entry)
            for key, entry in table if dotted(entry)}


@functools.lru_cache(maxsize=256)
def _models_with_batchnorm(path: str, stamp: tuple[int, int], names: tuple[str, ...]) -> frozenset[str]:
    """Which of ``names``, bound at the module level of ``path``, hold a model with BatchNorm."""
    unit = SourceUnit.read_parsed(path)
    if unit is None or unit.tree is None:
        return frozenset()
    knowledge = own_norms(unit).knowledge
    assert knowledge is not None
    return frozenset(name for name in names if knowledge.has_batchnorm(name, None, None))


def mark_imported_momentum(norms: FileNorms, script: Path) -> None:
    """Add ``model.target`` to ``norms.moving`` for each ``model = Cls(...)`` of ``script``
    whose class, imported from a project module, updates ``self.target`` as a moving
    average of another of its modules."""
    tree = norms.frames.unit.tree
    assert tree is not None
    classes = {item.local: item for item in project_import_list(tree, script) if item.name not in (".", "*")}
    if not classes:
        return
    assert norms.knowledge is not None
    for target, values in norms.knowledge.bindings.items():
        for value in map(unwrap, values):
            item = classes.get(dotted(value.func) or "") if isinstance(value, ast.Call) else None
            if item is not None and "zip(" in read_text(item.path):
                norms.moving.update(f"{target}.{attribute}" for attribute in
                                    _class_momentum(str(item.path), file_stamp(item.path), item.name))
                # a callback moving the module it is handed: ``BYOLMAWeightUpdate`` and ``pl_module.target_network``
                handed = _handed_momentum(str(item.path), file_stamp(item.path), item.name)
                norms.moving.update(frozen.target for frozen in norms.freezes
                                    if frozen.target.rpartition(".")[2] in handed and "." in frozen.target)
    norms.freezes = [f for f in norms.freezes if not any(holds(moved, f.target) for moved in norms.moving)]


@functools.lru_cache(maxsize=256)
def _handed_momentum(path: str, stamp: tuple[int, int], name: str) -> frozenset[str]:
    """The attributes of the module it is handed that class ``name`` of ``path`` moves as a
    momentum copy: ``target_net = pl_module.target_network`` in one method, then
    ``self.update_weights(online_net, target_net)`` blending ``target_net``'s parameters."""
    unit = SourceUnit.read_parsed(path)
    cls = next((node for node in unit.tree.body if isinstance(node, ast.ClassDef) and node.name == name),
               None) if unit is not None and unit.tree is not None else None
    if cls is None:
        return frozenset()
    methods = {node.name: node for node in cls.body if isinstance(node, ast.FunctionDef)}
    found: set[str] = set()
    for method in methods.values():
        params = {a.arg for a in method.args.args[1:]}
        for node in ast.walk(method):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Attribute) and isinstance(node.value.value, ast.Name)
                    and node.value.value.id in params and _moves(method, node.targets[0].id, methods)):
                found.add(node.value.attr)
    return frozenset(found)


def _moves(method: ast.FunctionDef, local: str, methods: dict[str, ast.FunctionDef]) -> bool:
    """``local`` is blended by a loop of ``method``, or handed to a method of the class that
    blends its parameter in that place (``self.update_weights(online_net, target_net)``)."""
    if local in momentum_targets(method):
        return True
    for call in ast.walk(method):
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and dotted(call.func.value) == "self"
                and (callee := methods.get(call.func.attr)) is not None):
            params = [a.arg for a in callee.args.args[1:]]
            if any(isinstance(arg, ast.Name) and arg.id == local and index < len(params)
                   and params[index] in momentum_targets(callee) for index, arg in enumerate(call.args)):
                return True
    return False


@functools.lru_cache(maxsize=256)
def _class_momentum(path: str, stamp: tuple[int, int], name: str) -> frozenset[str]:
    """The attributes (``target``) class ``name`` of ``path`` moves as momentum copies."""
    unit = SourceUnit.read_parsed(path)
    cls = next((node for node in unit.tree.body if isinstance(node, ast.ClassDef) and node.name == name),
               None) if unit is not None and unit.tree is not None else None
    if cls is None:
        return frozenset()
    return frozenset(moved[len("self."):] for moved in momentum_targets(cls) if moved.startswith("self."))
