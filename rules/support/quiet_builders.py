"""GL406: frozen networks nothing ever put in eval mode, in train mode since they were built:
among them those of the builders of another project module that never switch a mode."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from gradlint.source.default_mode import run_in_default_mode
from gradlint.source.frozen_norms import FileNorms, Freeze, ModeCall
from gradlint.source.index import FileIndex, read_text
from gradlint.source.model_factories import returned_values
from gradlint.source.names import collect_aliases, dotted
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.project_classes import built_class
from gradlint.source.project_functions import project_function

from .frozen_targets import method_owner, own_class

# a module source that may switch a mode: then a model it builds may leave it in eval mode
_MODE_SWITCHES = (".eval(", ".train(", "def train(")
_MODEL_LIBRARIES = ("torchvision", "timm")  # their builders return a model in train mode


def quiet_project_class(norms: FileNorms, target: str) -> Optional[str]:
    """The project class of another module every binding of ``target``'s root is built
    from (``model = CNNtoRNN(...)``) when that module never switches a mode: the frozen
    ``model.encoder.cnn`` (or ``extractor = FeatureExtractor()`` itself) is then in train
    mode since it was built; else None."""
    root = target.split(".")[0]
    assert norms.knowledge is not None
    values = [unwrap(value) for value in norms.knowledge.bindings.get(root, [])]
    callees = {dotted(value.func) for value in values if isinstance(value, ast.Call)}
    if not values or len(callees) != 1 or len(values) != sum(isinstance(v, ast.Call) for v in values):
        return None
    callee = next(iter(callees))
    tree = norms.frames.unit.tree
    path = Path(norms.frames.unit.path)
    if not callee or tree is None or not path.is_file():
        return None
    cls = built_class(values[0], callee, tree, path, FileIndex())
    if cls is None:  # ``model = resnet50(num_classes=n)``: a factory of a project module
        return callee if _quiet_factory(callee, tree, path) else None
    if cls.path == path or any(word in read_text(cls.path) for word in _MODE_SWITCHES):
        return None
    return callee


def _quiet_factory(callee: str, tree: ast.Module, path: Path) -> bool:
    """``callee`` is a function of another project module that never switches a mode and
    returns, through that module's own functions (``resnet50`` -> ``_resnet`` ->
    ``ResNet(...)``), only instances of that module's classes."""
    found = project_function(callee, tree, path)
    if found is None or found[2] is None or any(word in read_text(found[2]) for word in _MODE_SWITCHES):
        return False
    module = found[1]
    functions = {n.name: n for n in module.body if isinstance(n, ast.FunctionDef)}
    classes = {n.name for n in module.body if isinstance(n, ast.ClassDef)}
    libraries = {alias for alias, full in collect_aliases(module).items() if full.split(".")[0] in _MODEL_LIBRARIES}
    pending, seen = [found[0]], set()
    while pending:
        function = pending.pop()
        if function.name in seen:
            continue
        seen.add(function.name)
        handed = {a.arg for a in function.args.args + function.args.kwonlyargs}
        for value in returned_values(function) or [ast.Constant(None)]:
            name = dotted(value.func) if isinstance(value, ast.Call) else None
            if name in functions:
                pending.append(functions[name])
            elif not (name in classes or name in handed or name and name.split(".")[0] in libraries):
                return False  # a model of elsewhere (or a local built step by step): not followed
            # (``net = depth_fn(weights=None)``: the builder its caller hands it; ``models.resnet50()``: a
            # library's, which leaves the mode alone)
    return bool(seen) and len(seen) <= 4


def left_in_built_mode(norms: FileNorms, freeze: Freeze, target: str, trains: bool) -> list[ModeCall]:
    """The run of the frozen ``target`` that nothing ever put in eval mode, as an implicit
    train call (it is in train mode since it was built); [] when it is not run so, or when
    nothing is trained here and the run is not handed to a trainer."""
    owner, methods = method_owner(norms, freeze)
    spared = (*((freeze.except_,) if freeze.except_ else ()), *freeze.parts_optimised) \
        if freeze.how == "optimizer" else ()
    run = run_in_default_mode(norms, target, freeze.built_by or own_class(norms, freeze, target) or owner
                              or quiet_project_class(norms, target), methods, spared)
    if run is None or not (trains or run.trains):
        return []
    return [ModeCall(target, True, run.call, norms.frames._statement_of(run.call),
                     norms.frames.kinds.frame_of(run.call) or norms.frames.frames[0].node,
                     implicit=True, runner=run.runner,
                     within=f"`{run.within[0]}`, which the training loop calls on line {run.within[1].lineno}"
                     if run.within else "")]
