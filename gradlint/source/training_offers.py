"""What one file offers GL406 across files as a trainer: its training functions and classes
(a function, or a class keeping a model given to ``__init__``, that puts that model in train
mode while training). :mod:`gradlint.source.norm_links` reads them from the modules a
script imports, beside the freezes of :mod:`gradlint.source.norm_offers`."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.frames import Training
from gradlint.source.frozen_norms import FileNorms
from gradlint.source.held_locals import local_aliases
from gradlint.source.mode_restores import put_back
from gradlint.source.names import dotted
from gradlint.source.factory_facts import TrainingFunction, folded
from gradlint.source.norm_chains import rebound
from gradlint.source.norm_offers import module_functions
from gradlint.source.reaching_bindings import unwrap


def training_functions(norms: FileNorms) -> list[TrainingFunction]:
    """The file's module-level functions that train and leave a parameter in train mode,
    and such methods of its module-level classes (``def train(self, model):
    model.train() ...``, named ``Trainer.train``; the call passes no self)."""
    tree = norms.frames.unit.tree
    assert tree is not None
    trains = {id(frame.node) for frame in norms.frames.frames if any(isinstance(f, Training) for f in frame.facts)}
    functions = module_functions(tree)
    found: list[TrainingFunction] = []
    for mode in norms.modes:
        frame = mode.frame
        if (not mode.train or mode.written or not isinstance(frame, ast.FunctionDef) or id(frame) not in functions
                or id(frame) not in trains):
            continue
        name, offset = functions[id(frame)]
        root, dot, rest = mode.target.partition(".")
        params = [a.arg for a in frame.args.args]
        # (``target_model = model``; ``target_model.train()``)
        written, root = root, local_aliases(frame, {p: p for p in params}).get(root, root)
        if (root in params and root != "self" and not put_back(norms, mode, mode.target)
                and not rebound(frame, root, 0, mode.call.lineno)):
            found.append(TrainingFunction(name, params.index(root) - offset, root, dot + rest, mode.call.lineno,
                                          written=written if written != root else "",
                                          hook=_hook_after(frame, params, root, mode.call.lineno, offset)))
    return folded(found)


def _hook_after(frame: ast.FunctionDef, params: list[str], root: str, line: int,
                offset: int) -> Optional[tuple[int, str]]:
    """A parameter of ``frame`` it calls with ``root`` after ``line`` (``before_epoch(model)``)."""
    for node in ast.walk(frame):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in params
                and node.func.id != root and node.lineno >= line
                and any(isinstance(arg, ast.Name) and arg.id == root for arg in node.args)):
            return params.index(node.func.id) - offset, node.func.id
    return None


def training_classes(norms: FileNorms) -> list[TrainingFunction]:
    """The file's module-level classes that keep a model given to ``__init__`` and train it
    in train mode in a method (``Trainer(model, opt)`` with ``self.model.train()``): building
    one is a train call of the model passed (the call passes no ``self``)."""
    tree = norms.frames.unit.tree
    assert tree is not None
    kinds = norms.frames.kinds
    trains = {id(frame.node) for frame in norms.frames.frames if any(isinstance(f, Training) for f in frame.facts)}
    found: list[TrainingFunction] = []
    for mode in norms.modes:
        cls = kinds.class_of(mode.call)
        if not mode.train or mode.written or cls is None or cls not in tree.body or not mode.target.startswith("self."):
            continue
        if not any(id(method) in trains for method in cls.body) or put_back(norms, mode, mode.target):
            continue
        init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
        attribute, dot, rest = mode.target[len("self."):].partition(".")
        kept = _kept_parameter(init, attribute) if init is not None else None
        if kept is not None:
            found.append(TrainingFunction(cls.name, kept[0] - 1, kept[1], dot + rest, mode.call.lineno,
                                          written=f"self.{attribute}", entries=_reaching(cls, kinds.frame_of(mode.call))))
    return folded(found)


def _reaching(cls: ast.ClassDef, method: Optional[ast.AST]) -> tuple[str, ...]:
    """The methods of ``cls`` that run ``method``: itself, and those calling it through
    ``self.<name>(...)`` (a few levels)."""
    if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return ()
    methods = [f for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
    reaching = {method.name}
    for _ in range(len(methods)):
        more = {f.name for f in methods if f.name not in reaching and any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in reaching
            and dotted(n.func.value) == "self" for n in ast.walk(f))}
        if not more:
            break
        reaching |= more
    return tuple(sorted(reaching))


def _kept_parameter(init: ast.FunctionDef, attribute: str) -> Optional[tuple[int, str]]:
    """The ``__init__`` parameter ``self.<attribute> = <parameter>`` keeps (position counting self)."""
    params = [a.arg for a in init.args.args]
    for node in ast.walk(init):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and dotted(node.targets[0]) == f"self.{attribute}"
                and isinstance(kept := unwrap(node.value), ast.Name) and kept.id in params[1:]):
            return params.index(kept.id), kept.id  # also self.model = model.to(device)
    if attribute in params[1:] and any(  # super().__init__(model, ...): the base class keeps it (as self.model)
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"
            and isinstance(node.func.value, ast.Call) and dotted(node.func.value.func) == "super"
            and any(isinstance(a, ast.Name) and a.id == attribute for a in [*node.args, *(k.value for k in node.keywords)])
            for node in ast.walk(init)):
        return params.index(attribute), attribute
    if attribute in params[1:] and any(  # self.__dict__.update(locals()): every parameter kept by its name
            isinstance(node, ast.Call) and dotted(node.func) == "self.__dict__.update" for node in ast.walk(init)) \
            and any(isinstance(node, ast.Call) and dotted(node.func) == "locals" for node in ast.walk(init)):
        return params.index(attribute), attribute
    return None
