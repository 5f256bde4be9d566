"""GL406: a module handed to a function or class that only runs it, in whatever mode it came
in (:mod:`gradlint.source.module_runners` reads the function or class): ``extract(backbone,
loader)``, ``Trainer(encoder, loader).fit()``, or a class handing what it keeps on to such a
class (``Experiment`` -> ``SourceTrainer(self.encoder, ...)``). :mod:`gradlint.source.default_mode`
asks it where a module never put in eval mode is run."""

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
