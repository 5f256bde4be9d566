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
import re
import weakref
from pathlib import Path
from typing import Optional, Union

from gradlint.source.call_flags import flag_value, guard_name, guarded
from gradlint.source.chosen_names import chosen_string
from gradlint.source.frozen_norms import Elsewhere, FileNorms, Freeze, ModeCall, own_norms
from gradlint.source.imported_models import mark_imported_models
from gradlint.source.index import file_stamp, read_text
from gradlint.source.freeze_forms import related
from gradlint.source.names import dotted
from gradlint.source.norm_chains import (Choice, FreezingFactory, FreezingHelper, FrozenInstance, Known, KnownTrainers, Origin,
                                         TrainingFunction, chain)
from gradlint.source.norm_knowledge import argument, unwrap
from gradlint.source.project_functions import project_import_list, project_imports
from gradlint.source.norm_offers import (eval_keeping_classes, freezing_classes, freezing_factories, freezing_helpers,
                                         frozen_instances, training_classes, training_functions)
from gradlint.source.unit import SourceUnit


_CACHE: "weakref.WeakKeyDictionary[ast.Module, FileNorms]" = weakref.WeakKeyDictionary()


def file_norms(unit: SourceUnit) -> FileNorms:
    """GL406's facts of one file, its factories and imported training functions followed."""
    assert unit.tree is not None
    found = _CACHE.get(unit.tree)
    if found is None:
        found = _CACHE[unit.tree] = own_norms(unit)
        link(found)
    return found


# what a module that freezes a model says (a decorator @torch.no_grad() on an init function does not)
# (an attribute set or a method call; ``nn.Parameter(x, requires_grad=False)`` freezes no model)
_TRAINING_WORDS = (".backward(", "manual_backward(", ".step(")
_REQUIRES_GRAD = re.compile(r"\.requires_grad\s*=\s*(?!True\b)\S|\.requires_grad_\(\s*(?!True\b|\))")
_FREEZING = re.compile(_REQUIRES_GRAD.pattern + r"|with torch\.no_grad\(\)|torch\.inference_mode\(\)")
Linked = tuple[Known, KnownTrainers]
_IMPORTED: "weakref.WeakKeyDictionary[ast.Module, Linked]" = weakref.WeakKeyDictionary()
_DEPTH = 3  # project modules followed below the linted file: factory -> dispatch -> script


def worth_reading(unit: SourceUnit) -> bool:
    """A cheap look (the text, the imported functions it calls) at whether the file can
    freeze a model and put it in train mode; reading its frames costs far more."""
    text = unit.text
    # (``nn.Parameter(x, requires_grad=False)`` and ``self.head.train(self.training)`` in a model
    # library freeze and train nothing: most files of a library stop here)
    freezes = bool(_FREEZING.search(text)) or ("parameters()" in text and "optim" in text)
    # a model never put in eval is in train mode too; Lightning's trainer.fit(model) sets it each epoch
    trains = any(word in text for word in (*_TRAINING_WORDS, ".fit(", "training_step"))
    if freezes and trains:
        return True
    factories, trainers = _imported(unit)
    if (freezes or bool(factories)) and (trains or bool(trainers)):
        return True
    tree = unit.tree
    return trains and tree is not None and Path(unit.path).is_file() and any(
        _own_facts(str(module), file_stamp(module))[2] for module, _ in project_imports(tree, Path(unit.path)).values()
        if "requires_grad" in _text(str(module)))


def _imported(unit: SourceUnit) -> Linked:
    """The freezing factories and training functions the file imports from project modules
    and calls, by the name it calls them, with the module they are in."""
    tree = unit.tree
    assert tree is not None
    found = _IMPORTED.get(tree)
    if found is None:
        path = Path(unit.path)
        found = _IMPORTED[tree] = _called_facts(tree, path, unit.text, 0) if path.is_file() else ({}, {})
    return found


def _called_facts(tree: ast.Module, path: Path, text: str, depth: int) -> Linked:
    """What ``tree``'s imports of project modules offer that it calls: ``fit`` from
    ``from engine import fit`` (or ``*``), ``engine.fit`` from ``import engine``."""
    factories: Known = {}
    trainers: KnownTrainers = {}
    for local, (module, name) in project_imports(tree, path).items():
        if name not in ("*", ".") and f"{local}(" not in text or name == "." and f"{local}." not in text:
            continue  # most imports are of something the file does not call
        module_factories, module_trainers = _module_facts(str(module), depth)
        for factory in module_factories:
            if (spelled := _spelled(factory.function, local, name, text)) is not None:
                factories[spelled] = (factory, str(module))
        for trainer in module_trainers:
            if (spelled := _spelled(trainer.function, local, name, text)) is not None:
                trainers[spelled] = (trainer, str(module))
    return factories, trainers


def _spelled(function: str, local: str, imported: str, text: str) -> Optional[str]:
    """How the file calls an imported module's ``function``, if it calls it."""
    spelled = (function if imported == "*" else f"{local}.{function}" if imported == "." else
               local if function == imported else None)
    return spelled if spelled is not None and f"{spelled}(" in text else None


def link(norms: FileNorms) -> None:
    """Add the freezes and train calls of ``norms``' file that go through factories (its own
    or imported) and imported training functions, and through its own functions that pass
    either on."""
    unit = norms.frames.unit
    tree = unit.tree
    assert tree is not None and norms.knowledge is not None
    imported_factories, imported_trainers = _imported(unit)
    own_factories = freezing_factories(norms)
    factories = {**imported_factories, **{f.function: (f, unit.path) for f in own_factories}}
    trainers = {**imported_trainers, **{t.function: (t, unit.path) for t in training_classes(norms)}}
    if Path(unit.path).is_file():
        mark_imported_models(norms, Path(unit.path))
        _link_instances(norms, Path(unit.path))
        _link_freezing_helpers(norms, Path(unit.path))
    if not factories and not trainers:
        norms.freezes.sort(key=lambda freeze: (freeze.node.lineno, freeze.node.col_offset))
        return
    known_classes = {f.function: (f, unit.path) for f in freezing_classes(norms) if f.function not in factories}
    own_trainers = {t.function: (t, unit.path) for t in training_functions(norms)}
    chained_factories, chained_trainers = chain(tree, unit.path, {**known_classes, **factories}, {**own_trainers, **trainers})
    factories.update((f.function, (f, unit.path)) for f in chained_factories)
    trainers.update((t.function, (t, unit.path)) for t in chained_trainers)
    frames = norms.frames
    script = Path(unit.path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call):
            value = unwrap(node.value)
            if not isinstance(value, ast.Call) or (callee := dotted(value.func)) not in factories:
                continue
            factory, module = factories[callee]
            target = _target(node.targets[0], factory.position)
            if target:
                if factory.guard is not None and _flag(value, factory.guard, norms) is not True:
                    continue  # it freezes only when asked to, and this call does not (or may not)
                if factory.choice is not None and _picks_other(value, factory.choice, norms):
                    continue  # initialize_model("alexnet", ...): the branch it takes builds no BatchNorm
                norms.knowledge.bn_functions.add(callee)
                via = _elsewhere(factory.function, factory.line, module, factory.origin, script)
                how = "factory_no_grad" if factory.how == "no_grad" else "factory"
                norms.freezes.append(Freeze(target + factory.rest, how, value, via=via,
                                            built_by=None if factory.puts_in_eval else callee))
        elif isinstance(node, ast.Call) and (callee := dotted(node.func)) in trainers:
            trainer, module = trainers[callee]
            passed = argument(node, trainer.index, trainer.parameter)
            model = dotted(passed) if passed is not None else None
            if model:
                scope = frames.kinds.frame_of(node) or tree
                norms.modes.append(ModeCall(model + trainer.rest, True, node, frames._statement_of(node), scope,
                                            (trainer.written or trainer.parameter) + trainer.rest,
                                            via=_elsewhere(trainer.function, trainer.line, module, trainer.origin, script)))
    norms.freezes.sort(key=lambda freeze: (freeze.node.lineno, freeze.node.col_offset))  # a module's first freeze is reported


def _target(target: ast.expr, position: Optional[int]) -> Optional[str]:
    """The name a factory's model is bound to: ``model = f()``, or ``model, size = f()``
    for a factory returning ``model, size``."""
    if position is None:
        return dotted(target)
    if isinstance(target, (ast.Tuple, ast.List)) and position < len(target.elts):
        return dotted(target.elts[position])
    return None


def _elsewhere(function: str, line: int, module: str, origin: Optional[Origin], script: Path) -> Elsewhere:
    shown = None if Path(module) == script else _shown(Path(module), script)
    inner = (Elsewhere(origin.function, origin.line, None if Path(origin.path) == script else _shown(Path(origin.path), script))
             if origin is not None else None)
    return Elsewhere(function, line, shown, inner)


def _flag(call: ast.Call, guard: tuple[int, str, Optional[bool]], norms: FileNorms) -> Optional[bool]:
    """The value a factory call gives the parameter its freeze depends on."""
    index, name, default = guard
    parameter, negated = guard_name(name)
    passed = argument(call, index, parameter)
    tree = norms.frames.unit.tree
    assert tree is not None
    value = default if passed is None else flag_value(passed, norms.frames.kinds.frame_of(call), tree)
    runs = guarded(value, negated)
    return runs if isinstance(runs, bool) else None


def _picks_other(call: ast.Call, choice: Choice, norms: FileNorms) -> bool:
    """The call passes a known string that picks a branch not among ``choice``'s values."""
    index, name, values = choice
    passed = argument(call, index, name)
    tree = norms.frames.unit.tree
    assert tree is not None
    picked = chosen_string(passed, norms.frames.kinds.frame_of(call), tree) if passed is not None else None
    return picked is not None and picked not in values


Facts = tuple[tuple[FreezingFactory, ...], tuple[TrainingFunction, ...]]
# (module, depth) -> the files its facts were read from, with their stamps, and the facts
_FACTS: dict[tuple[str, int], tuple[tuple[tuple[str, tuple[int, int]], ...], Facts]] = {}


def _module_facts(path: str, depth: int = 0) -> Facts:
    """An imported module's freezing factories and training functions, with its functions
    that pass on those of its own or of the project modules it imports
    (:func:`norm_chains.chain`), ``_DEPTH`` modules down; read again when any of the
    files it was read from changes (the editor's server lives across edits)."""
    cached = _FACTS.get((path, depth))
    if cached is not None and all(file_stamp(Path(p)) == stamp for p, stamp in cached[0]):
        return cached[1]
    read = {path: file_stamp(Path(path))}
    facts = _read_module_facts(path, depth, read)
    _FACTS[(path, depth)] = (tuple(read.items()), facts)
    return facts


def _read_module_facts(path: str, depth: int, read: dict[str, tuple[int, int]]) -> Facts:
    factories, trainers = _own_facts(path, read[path])[:2]
    if depth >= _DEPTH:
        return factories, trainers
    text = _text(path)
    known_factories, known_trainers = _called_facts(_import_heads(path, text), Path(path), text, depth + 1)
    for module in {module for _, module in [*known_factories.values(), *known_trainers.values()]}:
        read.update(_FACTS[(module, depth + 1)][0])
    for fact in factories:
        known_factories.setdefault(fact.function, (fact, path))
    for trainer in trainers:
        known_trainers.setdefault(trainer.function, (trainer, path))
    # a function of this module must call one of them: ``name(`` beyond its own ``def name(``
    called = [name for name in [*known_factories, *known_trainers] if text.count(f"{name}(") > text.count(f"def {name}(")]
    unit = _unit(path) if called else None
    if unit is None or unit.tree is None:
        return factories, trainers
    more_factories, more_trainers = chain(unit.tree, path, known_factories, known_trainers)
    return factories + tuple(more_factories), trainers + tuple(more_trainers)


def _import_heads(path: str, text: str) -> ast.Module:
    """The module's top-level imports, parsed without the rest of it when they allow."""
    imports = "\n".join(line for line in text.splitlines() if line.startswith(("from ", "import ")))
    try:
        return ast.parse(imports)
    except SyntaxError:  # an import over several lines: read the whole module
        unit = _unit(path)
        return unit.tree if unit is not None and unit.tree is not None else ast.Module(body=[], type_ignores=[])


# factories and classes, training functions and classes, frozen module-level models, and
# classes that keep (a part's) BatchNorm in eval mode through a train() override
OwnFacts = tuple[tuple[FreezingFactory, ...], tuple[TrainingFunction, ...], tuple[FrozenInstance, ...], tuple[str, ...],
                 tuple[FreezingHelper, ...]]


@functools.lru_cache(maxsize=1024)
def _own_facts(path: str, stamp: tuple[int, int]) -> OwnFacts:
    """The module's own factories, classes, training functions and frozen module-level
    models; a module that freezes nothing and calls no ``.train(`` is not parsed."""
    text = _text(path)
    # a training function or class trains (backward) and calls .train(); a model's own
    # ``self.head.train(self.training)`` in a library module is neither
    freezes, trains = bool(_FREEZING.search(text)), ".train(" in text and any(w in text for w in _TRAINING_WORDS)
    overrides = "def train(" in text  # a class that keeps its BatchNorm in eval mode through train()
    if not (freezes or trains or overrides):
        return (), (), (), (), ()  # most modules: nothing here can freeze a model or put one in train mode
    unit = _unit(path)
    if unit is None or unit.tree is None:
        return (), (), (), (), ()
    if not (trains or overrides) and not _REQUIRES_GRAD.search(text) and not _no_grad_in_forward(unit.tree):
        return (), (), (), (), ()  # only no_grad blocks outside forward (weight init, a library's utilities)
    norms = own_norms(unit)
    mark_imported_models(norms, Path(path))  # ``from load_model import model``, frozen here
    return (tuple(freezing_factories(norms) + freezing_classes(norms)) if freezes else (),
            tuple(training_functions(norms) + training_classes(norms)) if trains else (),
            tuple(frozen_instances(norms)) if freezes else (),
            tuple(eval_keeping_classes(unit.tree)) if overrides else (),
            tuple(freezing_helpers(norms)) if freezes else ())


def _no_grad_in_forward(tree: ast.Module) -> bool:
    """A class's ``forward`` has a ``with torch.no_grad():`` block (a part it never trains)."""
    return any(isinstance(method, ast.FunctionDef) and method.name == "forward"
               and any(isinstance(node, ast.With) and "no_grad" in ast.unparse(node.items[0].context_expr)
                       for node in ast.walk(method))
               for cls in tree.body if isinstance(cls, ast.ClassDef) for method in cls.body)


def _link_instances(norms: FileNorms, script: Path) -> None:
    """``from model import *`` (or ``import model``) of a module that builds and freezes a
    module-level ``model``: a freeze of ``model`` (``model.model``) at the import."""
    tree = norms.frames.unit.tree
    text = norms.frames.unit.text
    assert tree is not None and norms.knowledge is not None
    for item in project_import_list(tree, script):
        target, local, imported = item.path, item.local, item.name
        if not any(word in _text(str(target)) for word in ("requires_grad", "def train(")):
            continue
        for instance in _own_facts(str(target), file_stamp(target))[2]:
            spelled = (instance.name if imported == "*" else local if imported == instance.name
                       else f"{local}.{instance.name}" if imported == "." else None)
            if spelled is None or not re.search(rf"(?<![\w.]){re.escape(spelled)}\b", text.replace(_line(text, item.node), "")):
                continue
            norms.knowledge.imported_bn.add(spelled)
            via = Elsewhere(instance.name, instance.line, _shown(target, script))
            norms.freezes.append(Freeze(spelled + instance.rest, "imported", item.node, via=via))
        keepers = _own_facts(str(target), file_stamp(target))[3]
        spelled_keepers = {f"{local}.{name}" if imported == "." else name if imported == "*" else local
                           for name in keepers if imported in (name, "*", ".")}
        if spelled_keepers:
            _mark_eval_kept(norms, spelled_keepers)


def _link_freezing_helpers(norms: FileNorms, script: Path) -> None:
    """``freeze_backbone(model)`` with ``from model import freeze_backbone`` (or ``import
    model``), a project function that freezes a part of the model it is handed, or
    ``model.freeze_backbone()``, a method of the imported class ``model`` was built from: a
    freeze of ``model.features`` at the call (when its flag, if any, asks for one). A helper
    that makes the part trainable again (``model.unfreeze_all()``) undoes it."""
    tree = norms.frames.unit.tree
    text = norms.frames.unit.text
    assert tree is not None
    spelled: dict[str, tuple[FreezingHelper, Path]] = {}
    for item in project_import_list(tree, script):
        if item.name not in ("*", ".") and f"{item.local}(" not in text or item.name == "." and f"{item.local}." not in text:
            continue
        for helper in _own_facts(str(item.path), file_stamp(item.path))[4]:
            owner, _, method = helper.function.rpartition(".")  # a method: ``PlantNet.freeze_backbone``
            first = owner or helper.function
            name = (first if item.name == "*" else f"{item.local}.{first}" if item.name == "."
                    else item.local if item.name == first else None)
            if name is not None:
                spelled[f"{name}.{method}" if owner else name] = (helper, item.path)
    if not spelled:
        return
    assert norms.knowledge is not None
    # ``model.freeze_backbone()``: the method of the class ``model`` was built from
    methods: dict[str, tuple[str, str]] = {}  # "model.freeze_backbone" -> ("model", "PlantNet.freeze_backbone")
    for bound, values in norms.knowledge.bindings.items():
        for bound_value in values:
            built = unwrap(bound_value)
            class_name = dotted(built.func) if isinstance(built, ast.Call) else None
            for key in spelled:
                owner, _, method = key.rpartition(".")
                if class_name and owner == class_name:
                    methods[f"{bound}.{method}"] = (bound, key)
    unfreezes: list[tuple[str, ast.Call]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or (called := dotted(node.func)) is None:
            continue
        receiver: Optional[str]
        receiver, callee = methods.get(called, (None, called))
        if callee not in spelled:
            continue
        helper, module = spelled[callee]
        passed = argument(node, helper.index, helper.parameter) if receiver is None else None
        model = receiver or (dotted(passed) if passed is not None else None)
        runs: Union[None, bool, str] = True
        if helper.guard is not None:
            index, name, default = helper.guard
            parameter, negated = guard_name(name)
            flag = argument(node, index, parameter)
            runs = guarded(default if flag is None else flag_value(flag, norms.frames.kinds.frame_of(node), tree), negated)
        if model and helper.how == "unfreeze":
            unfreezes.append((model + helper.rest, node))
        elif model and runs is not False and runs is not None:
            norms.freezes.append(Freeze(model + helper.rest, helper.how, node,
                                        via=Elsewhere(helper.function, helper.line, _shown(module, script)),
                                        guard=runs if isinstance(runs, str) else None))
    kinds = norms.frames.kinds
    for target, node in unfreezes:  # made trainable again, unless before every freeze of it in its function
        if not any(related(f.target, target) and kinds.frame_of(f.node) is kinds.frame_of(node)
                   and f.node.lineno > node.lineno for f in norms.freezes):
            norms.unfrozen.add(target)


def _mark_eval_kept(norms: FileNorms, classes: set[str]) -> None:
    """Names of the file bound to an instance of a class that keeps its frozen part's
    BatchNorm in eval mode itself (a ``train()`` override in its module)."""
    assert norms.knowledge is not None
    for name, values in norms.knowledge.bindings.items():
        if any(isinstance(v := unwrap(value), ast.Call) and dotted(v.func) in classes for value in values):
            norms.knowledge.eval_kept.add(name)


def _line(text: str, node: ast.stmt) -> str:
    return "\n".join(text.splitlines()[node.lineno - 1:(node.end_lineno or node.lineno)])


def _text(path: str) -> str:
    return read_text(Path(path))


def _unit(path: str) -> Optional[SourceUnit]:
    return SourceUnit.read_parsed(path)


def _shown(module: Path, script: Path) -> str:
    return os.path.relpath(module.resolve(), script.resolve().parent)
