"""GL406 facts that cross a function or a file: a model frozen inside the function that
builds it, and a model put in train mode inside the function that trains it.

- A *freezing factory* is a module-level function that freezes (part of) a local model
  with BatchNorm and returns it (``def get_model(): m = resnet50(); for p in
  m.parameters(): p.requires_grad = False; ...; return m``). ``model = get_model()`` in
  the file, or in a script importing it from a project module, is a freeze of ``model``.
- A *training function* is a module-level function of a project module that trains
  (backward/step) and calls ``net.train()`` on one of its parameters with no ``net.eval()``
  after it before the next training statement. ``fit(model, ...)`` in a script importing it
  is a train call of ``model`` whose put-back was already decided in ``fit``'s file.

Same-file training helpers are :meth:`frozen_norms._Collector._through_helpers`. Imported
modules are read from disk (never imported), once per file and change.
"""

from __future__ import annotations

import ast
import functools
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from gradlint.source.frames import Training
from gradlint.source.call_flags import flag_value, guard_of, parameter_default
from gradlint.source.frozen_norms import Elsewhere, FileNorms, Freeze, ModeCall, own_norms, put_back, related
from gradlint.source.index import FileIndex, file_stamp
from gradlint.source.names import dotted
from gradlint.source.norm_knowledge import argument, unwrap
from gradlint.source.unit import SourceUnit


@dataclass(frozen=True)
class FreezingFactory:
    function: str
    rest: str  # the frozen part of what it returns: "" (all of it) or ".backbone"
    line: int  # the freeze
    how: str  # the freeze's Freeze.how
    # a parameter that must be true for it to freeze: (index, name, its constant default or None)
    guard: Optional[tuple[int, str, Optional[bool]]] = None


@dataclass(frozen=True)
class TrainingFunction:
    function: str
    index: int  # the parameter put in train mode
    parameter: str
    rest: str  # "" or ".backbone" when it is ``net.backbone.train()``
    line: int  # the train call


_CACHE: "weakref.WeakKeyDictionary[ast.Module, FileNorms]" = weakref.WeakKeyDictionary()


def file_norms(unit: SourceUnit) -> FileNorms:
    """GL406's facts of one file, its factories and imported training functions followed."""
    assert unit.tree is not None
    found = _CACHE.get(unit.tree)
    if found is None:
        found = _CACHE[unit.tree] = own_norms(unit)
        link(found)
    return found


_FREEZE_WORDS = ("requires_grad", "no_grad", "inference_mode")
Linked = tuple[dict[str, tuple[FreezingFactory, Optional[str]]], dict[str, tuple[TrainingFunction, Optional[str]]]]
_IMPORTED: "weakref.WeakKeyDictionary[ast.Module, Linked]" = weakref.WeakKeyDictionary()


def worth_reading(unit: SourceUnit) -> bool:
    """A cheap look (the text, the imported functions it calls) at whether the file can
    freeze a model and put it in train mode; reading its frames costs far more."""
    text = unit.text
    freezes = any(word in text for word in _FREEZE_WORDS) or ("parameters()" in text and "optim" in text)
    trains = ".train(" in text
    if freezes and trains:
        return True
    factories, trainers = _imported(unit)
    return (freezes or bool(factories)) and (trains or bool(trainers))


def _imported(unit: SourceUnit) -> Linked:
    """The freezing factories and training functions the file imports from project modules
    and calls, by the name it uses."""
    tree = unit.tree
    assert tree is not None
    found = _IMPORTED.get(tree)
    if found is not None:
        return found
    factories: dict[str, tuple[FreezingFactory, Optional[str]]] = {}
    trainers: dict[str, tuple[TrainingFunction, Optional[str]]] = {}
    path = Path(unit.path)
    if path.is_file():
        for local, (module, name) in _project_imports(tree, path).items():
            if name != "*" and f"{local}(" not in unit.text:
                continue  # most imports are of something the file does not call
            module_factories, module_trainers = _module_facts(str(module), file_stamp(module))
            for factory in module_factories:
                if factory.function == name or name == "*" and f"{factory.function}(" in unit.text:
                    factories[local if name != "*" else factory.function] = (factory, _shown(module, path))
            for trainer in module_trainers:
                if trainer.function == name or name == "*" and f"{trainer.function}(" in unit.text:
                    trainers[local if name != "*" else trainer.function] = (trainer, _shown(module, path))
    _IMPORTED[tree] = (factories, trainers)
    return factories, trainers


def link(norms: FileNorms) -> None:
    """Add the freezes and train calls of ``norms``' file that go through factories (its own
    or imported) and imported training functions."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    imported_factories, imported_trainers = _imported(norms.frames.unit)
    factories = {**imported_factories, **{f.function: (f, None) for f in freezing_factories(norms)}}
    trainers = dict(imported_trainers)
    if not factories and not trainers:
        return
    frames = norms.frames
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and (target := dotted(node.targets[0])):
            value = unwrap(node.value)
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in factories:
                factory, shown = factories[value.func.id]
                if factory.guard is not None and _flag(value, factory.guard, norms) is not True:
                    continue  # it freezes only when asked to, and this call does not (or may not)
                norms.knowledge.bn_functions.add(value.func.id)
                via = Elsewhere(factory.function, factory.line, shown)
                norms.freezes.append(Freeze(target + factory.rest, "factory", value, via=via))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in trainers:
            trainer, shown = trainers[node.func.id]
            passed = argument(node, trainer.index, trainer.parameter)
            model = dotted(passed) if passed is not None else None
            if model:
                scope = frames.kinds.frame_of(node) or tree
                norms.modes.append(ModeCall(model + trainer.rest, True, node, frames._statement_of(node), scope,
                                            trainer.parameter + trainer.rest,
                                            via=Elsewhere(trainer.function, trainer.line, shown)))
    norms.freezes.sort(key=lambda freeze: (freeze.node.lineno, freeze.node.col_offset))  # a module's first freeze is reported


def freezing_factories(norms: FileNorms) -> list[FreezingFactory]:
    """The file's module-level functions that freeze a local model with BatchNorm and return it."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    functions = {id(node): node for node in tree.body if isinstance(node, ast.FunctionDef)}
    found: list[FreezingFactory] = []
    for freeze in norms.freezes:
        if freeze.how not in ("requires_grad", "requires_grad_"):
            continue
        function = norms.frames.kinds.frame_of(freeze.node)
        if not isinstance(function, ast.FunctionDef) or id(function) not in functions:
            continue
        root, dot, rest = freeze.target.partition(".")
        built = _bound_before(function, root, freeze.node.lineno)
        if (root not in _returned(function) or any(related(u, freeze.target) for u in norms.unfrozen)
                or built is None or not norms.knowledge.value_has_batchnorm(built, rest, freeze.node)):
            continue
        guard = guard_of(freeze.node, function, norms.frames.parents) if freeze.guard is None else freeze.guard
        if any(f.function == function.name for f in found):
            continue
        found.append(FreezingFactory(function.name, dot + rest, freeze.node.lineno, freeze.how,
                                     _parameter(function, guard) if guard is not None else None))
    return found


def freezing_classes(norms: FileNorms) -> list[FreezingFactory]:
    """The file's module classes whose ``__init__`` freezes a part with BatchNorm
    (``self.backbone = resnet18(); for p in self.backbone.parameters(): ...``): building
    one, ``model = Cls(...)`` in a script importing it, freezes ``model.backbone``."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    found: list[FreezingFactory] = []
    kinds = norms.frames.kinds
    for freeze in norms.freezes:
        init = kinds.frame_of(freeze.node)
        cls = kinds.class_of(freeze.node)
        if (freeze.how not in ("requires_grad", "requires_grad_") or not freeze.target.startswith("self.")
                or cls is None or cls not in tree.body or not isinstance(init, ast.FunctionDef) or init.name != "__init__"
                or any(related(u, freeze.target) for u in norms.unfrozen)
                or not norms.knowledge.has_batchnorm(freeze.target, cls, freeze.node)
                or any(f.function == cls.name for f in found)):
            continue
        guard = guard_of(freeze.node, init, norms.frames.parents)
        flag = _parameter(init, guard) if guard is not None else None
        # the call passes no self: its arguments sit one place earlier than __init__'s parameters
        found.append(FreezingFactory(cls.name, freeze.target[len("self"):], freeze.node.lineno, freeze.how,
                                     (flag[0] - 1, flag[1], flag[2]) if flag else None))
    return found


def training_functions(norms: FileNorms) -> list[TrainingFunction]:
    """The file's module-level functions that train and leave a parameter in train mode."""
    tree = norms.frames.unit.tree
    assert tree is not None
    trains = {id(frame.node) for frame in norms.frames.frames if any(isinstance(f, Training) for f in frame.facts)}
    found: list[TrainingFunction] = []
    for mode in norms.modes:
        frame = mode.frame
        if (not mode.train or mode.written or not isinstance(frame, ast.FunctionDef) or frame not in tree.body
                or id(frame) not in trains):
            continue
        root, dot, rest = mode.target.partition(".")
        params = [a.arg for a in frame.args.args]
        if root in params and not put_back(norms, mode, mode.target):
            if all(t.function != frame.name for t in found):
                found.append(TrainingFunction(frame.name, params.index(root), root, dot + rest, mode.call.lineno))
    return found


def _parameter(function: ast.FunctionDef, name: str) -> tuple[int, str, Optional[bool]]:
    index, default = parameter_default(function, name)
    return index, name, bool(default.value) if isinstance(default, ast.Constant) else None


def _flag(call: ast.Call, guard: tuple[int, str, Optional[bool]], norms: FileNorms) -> Optional[bool]:
    """The value a factory call gives the parameter its freeze depends on."""
    index, name, default = guard
    passed = argument(call, index, name)
    tree = norms.frames.unit.tree
    assert tree is not None
    if passed is None:
        return default
    value = flag_value(passed, norms.frames.kinds.frame_of(call), tree)
    return value if isinstance(value, bool) else None


def _bound_before(function: ast.FunctionDef, name: str, line: int) -> Optional[ast.expr]:
    """What ``name`` was last assigned before ``line`` (the branch a freeze is in builds it
    there: ``if arch == "vgg16": m = vgg16() ... elif ...: m = resnet50()``)."""
    values = [node for node in ast.walk(function) if isinstance(node, ast.Assign) and node.lineno < line
              and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
    return max(values, key=lambda node: node.lineno).value if values else None


def _returned(function: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            value = unwrap(node.value)
            if isinstance(value, ast.Name):
                names.add(value.id)
    return names


def _project_imports(tree: ast.Module, script: Path) -> dict[str, tuple[Path, str]]:
    """``from models.pretrained import get_model as g`` -> {"g": (models/pretrained.py, "get_model")}."""
    index = FileIndex()
    found: dict[str, tuple[Path, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.level or node.module):
            target = index.resolve_import(script, node.module or "", node.level, entry=script)
            if target is not None:
                # ``from model import *``: every function of it, by its own name
                found.update((alias.asname or alias.name, (target, alias.name)) if alias.name != "*"
                             else (f"*{target}", (target, "*")) for alias in node.names)
    return found


@functools.lru_cache(maxsize=1024)
def _module_facts(path: str, stamp: tuple[int, int],
                  depth: int = 0) -> tuple[tuple[FreezingFactory, ...], tuple[TrainingFunction, ...]]:
    """An imported module's freezing factories and training functions (read once per change).
    At ``depth`` 0 its functions that return what a freezing factory or class of a module
    it imports builds count too (``get_model_by_name`` returning ``EfficientNet_B0(...)``)."""
    factories, trainers = _own_facts(path, stamp)
    if depth == 0:
        known = {f.function for f in factories}
        factories += tuple(f for f in _chained_factories(path) if f.function not in known)
    return factories, trainers


@functools.lru_cache(maxsize=1024)
def _own_facts(path: str, stamp: tuple[int, int]) -> tuple[tuple[FreezingFactory, ...], tuple[TrainingFunction, ...]]:
    """The module's own factories, classes and training functions; a module that freezes
    nothing and calls no ``.train(`` is not parsed."""
    text = _text(path)
    freezes, trains = "requires_grad" in text, ".train(" in text
    if not (freezes or trains):
        return (), ()
    unit = _unit(path)
    if unit is None:
        return (), ()
    norms = own_norms(unit)
    return (tuple(freezing_factories(norms) + freezing_classes(norms)) if freezes else (),
            tuple(training_functions(norms)) if trains else ())


def _chained_factories(path: str) -> list[FreezingFactory]:
    """Module-level functions that return what a freezing factory or class of another
    project module builds (one level more; a factory that freezes only on a flag is left
    out). The module is parsed only when one of its imports offers one."""
    text = _text(path)
    if "import" not in text:
        return []
    imports = "\n".join(line for line in text.splitlines() if line.startswith(("from ", "import ")))
    try:
        heads = ast.parse(imports)
    except SyntaxError:  # an import over several lines: read the whole module
        unit = _unit(path)
        heads = unit.tree if unit is not None and unit.tree is not None else ast.Module(body=[], type_ignores=[])
    imported: dict[str, FreezingFactory] = {}
    for local, (module, name) in _project_imports(heads, Path(path)).items():
        if name != "*" and f"{local}(" not in text or "requires_grad" not in _text(str(module)):
            continue  # not called here, or freezes nothing
        for factory in _own_facts(str(module), file_stamp(module))[0]:
            if factory.guard is None and (factory.function == name or name == "*" and f"{factory.function}(" in text):
                imported[local if name != "*" else factory.function] = factory
    unit = _unit(path) if imported else None
    if unit is None or unit.tree is None:
        return []
    found: list[FreezingFactory] = []
    for function in unit.tree.body:
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if not isinstance(node, ast.Return) or node.value is None:
                continue
            value = unwrap(node.value)
            if isinstance(value, ast.Name):
                value = unwrap(_bound_before(function, value.id, node.lineno) or value)
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in imported:
                built = imported[value.func.id]
                found.append(FreezingFactory(function.name, built.rest, node.lineno, built.how))
                break
    return found


def _text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _unit(path: str) -> Optional[SourceUnit]:
    try:
        unit = SourceUnit.from_path(Path(path), path)
    except OSError:
        return None
    return unit if unit.tree is not None else None


def _shown(module: Path, script: Path) -> str:
    return os.path.relpath(module.resolve(), script.resolve().parent)
