"""GL406: a module handed to a function or class that only runs it, in whatever mode it came
in (:mod:`gradlint.source.module_runners` reads the function or class): ``extract(backbone,
loader)``, ``Trainer(encoder, loader).fit()``, or a class handing what it keeps on to such a
class (``Experiment`` -> ``SourceTrainer(self.encoder, ...)``); and a project function or class
that leaves a module's mode alone (``EarlyStopping``, a ``freeze(module)`` helper).
:mod:`gradlint.source.default_mode` asks it where a module never put in eval mode is run."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from gradlint.source.frozen_norms import FileNorms
from gradlint.source.index import FileIndex
from gradlint.source.module_runners import (Handed, Scope, class_runs_and_trains, class_runs_parameter, handed_on, init_of,
                                           parameter_of, runs_parameter)
from gradlint.source.names import dotted
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.project_classes import ProjectClass, built_class
from gradlint.source.project_functions import project_function


@dataclass(frozen=True)
class DefaultRun:
    call: ast.Call  # the run, or the call handing it to a helper that runs it
    runner: str = ""  # that helper, with where it runs it: "`extract` (feats.py:12)"
    trains: bool = False  # the helper is a class that trains with it (its methods call backward())
    within: Optional[tuple[str, ast.Call]] = None  # the run is in this function of the file, called there in a training loop


def handed_to_runner(norms: FileNorms, call: ast.Call, node: ast.expr) -> Optional[DefaultRun]:
    """``extract(backbone, loader)`` of a function of the file, a method of its class, or a
    function imported from a project module, that only runs what it is handed."""
    tree = norms.frames.unit.tree
    assert tree is not None
    scope = Scope.of(tree, norms.frames.kinds.class_of(call))
    line = handed_on(call, node, scope)
    if line is not None:
        return DefaultRun(call, f"`{dotted(call.func)}` (line {line})")
    name = dotted(call.func) or ""
    path = Path(norms.frames.unit.path)
    found = project_function(name, tree, path)
    module = found[2] if found is not None else None
    if found is None and name:
        return _built_runner(call, node, name, tree, path)
    if found is None or module is None:
        return None  # (a function of this file was read above, through the scope)
    function, module_tree, _ = found
    other = Scope.of(module_tree, None)
    parameter = parameter_of(call, node, function, False)
    line = runs_parameter(function, parameter, other) if parameter else None
    if line is None:
        return None
    return DefaultRun(call, f"`{name}` ({os.path.relpath(module.resolve(), path.resolve().parent)}:{line})")


def _handed_within(cls: ProjectClass, depth: int = 0) -> Optional[Handed]:
    """What a class hands what it keeps to (``SourceTrainer(self.encoder, ...)`` in
    ``Experiment.run``): where that project class runs it and whether it trains, two levels at most."""
    if depth >= 2:
        return None

    def handed(call: ast.Call, node: ast.expr) -> Optional[tuple[int, bool]]:
        inner = built_class(call, dotted(call.func) or "", cls.tree, cls.path, FileIndex())
        init = init_of(inner.node) if inner is not None else None
        parameter = parameter_of(call, node, init, True) if init is not None else None
        if inner is None or parameter is None:
            return None
        found = class_runs_and_trains(inner.node, parameter, _handed_within(inner, depth + 1))
        return (call.lineno, found[1]) if found is not None else None  # (the line in this class's file)
    return handed


def _built_runner(call: ast.Call, node: ast.expr, name: str, tree: ast.Module, path: Path) -> Optional[DefaultRun]:
    """``Trainer(encoder, decoder, loader)``: a project class that keeps the module and
    only runs it in its training methods (:func:`class_runs_parameter`)."""
    cls = built_class(call, name, tree, path, FileIndex())
    init = init_of(cls.node) if cls is not None else None
    if cls is None or init is None:
        return None
    parameter = parameter_of(call, node, init, True)
    line = class_runs_parameter(cls.node, parameter, _handed_within(cls)) if parameter else None
    if line is None:
        return None
    where = os.path.relpath(cls.path.resolve(), path.resolve().parent)
    return DefaultRun(call, f"`{name}` ({where}:{line})" if cls.path != path else f"`{name}` (line {line})", True)


# what a function or class that may set a module's mode says in its source
MODE_WORDS = (".train(", ".eval(", "requires_grad", ".apply(", ".modules(", ".children(")


def never_sets_a_mode(norms: FileNorms, call: ast.Call) -> bool:
    """``teacher = ResNet18()``: the module of another project file whose function or class
    builds the model never calls ``train()`` or ``eval()``, so the model it gives is in train mode."""
    source = _project_source(norms, call, whole_module=True)
    return source is not None and not any(word in ast.unparse(source) for word in (".train(", ".eval("))


def _project_source(norms: FileNorms, call: ast.Call, whole_module: bool = False) -> Optional[ast.AST]:
    """The project function ``call`` calls, or the project class it builds (of the file or
    imported); with ``whole_module``, the module defining it."""
    tree = norms.frames.unit.tree
    assert tree is not None
    path = Path(norms.frames.unit.path)
    name = dotted(call.func) or ""
    found = project_function(name, tree, path) if name else None
    if found is not None:
        return found[1] if whole_module else found[0]
    cls = built_class(call, name, tree, path, FileIndex()) if name else None
    return None if cls is None else cls.tree if whole_module else cls.node


def mode_neutral(norms: FileNorms, call: ast.Call) -> bool:
    """``call`` is a project function, or an instance of a project class (its ``__call__``
    and every other method), whose source never sets a module's mode: ``EarlyStopping``
    handed the model to save a checkpoint."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    path = Path(norms.frames.unit.path)
    name = dotted(call.func) or ""
    found = project_function(name, tree, path) if name else None
    source: Optional[ast.AST] = found[0] if found is not None else None
    if source is None and name and "." not in name:  # early_stop = EarlyStopping(patience=7)
        values = [unwrap(value) for value in norms.knowledge.bindings.get(name, [])]
        if len(values) == 1 and isinstance(built := values[0], ast.Call):
            source = _project_source(norms, built)
    # (a helper that trains what it is handed, ``train_model(model, ...)``, is not neutral either:
    # the model it steps is not frozen)
    if source is None:
        return False
    words = [w for w in (*MODE_WORDS, ".backward(", ".step(") if w != "requires_grad" or not _only_freezes(source)]
    return not any(word in ast.unparse(source) for word in words)


def _only_freezes(source: ast.AST) -> bool:
    """Every ``requires_grad`` of ``source`` freezes (``p.requires_grad = False``,
    ``requires_grad_(False)``): ``freeze(src_encoder)`` of a helper module leaves the mode alone."""
    for node in ast.walk(source):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad"
                                                for t in node.targets):
            if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                return False
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requires_grad_":
            if not (node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value is False):
                return False
    return True
