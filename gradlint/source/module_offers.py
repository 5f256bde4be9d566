"""What a project module offers GL406's cross-file links, read from disk (never imported)
once per file and change: its freezing factories and classes, training functions and classes,
module-level models frozen there, classes that keep their BatchNorm in eval mode, and
freezing helpers. Most modules offer nothing and are not parsed."""

from __future__ import annotations

import ast
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from gradlint.source.frozen_norms import own_norms
from gradlint.source.imported_models import mark_imported_models
from gradlint.source.index import read_text
from gradlint.source.model_factories import instance_builders
from gradlint.source.module_runners import class_runs_parameter
from gradlint.source.factory_facts import FreezingFactory, FreezingHelper, FrozenInstance, TrainingFunction
from gradlint.source.no_grad_runners import forward_methods
from gradlint.source.norm_offers import (eval_keeping_classes, freezing_classes, freezing_factories, freezing_helpers,
                                         frozen_instances)
from gradlint.source.training_offers import training_classes, training_functions
from gradlint.source.unit import SourceUnit

# what a module that freezes a model says (a decorator @torch.no_grad() on an init function does not)
# (an attribute set or a method call; ``nn.Parameter(x, requires_grad=False)`` freezes no model)
TRAINING_WORDS = (".backward(", "manual_backward(", ".step(")
REQUIRES_GRAD = re.compile(r"\.requires_grad\s*=\s*(?!True\b)\S|\.requires_grad_\(\s*(?!True\b|\))")
FREEZING = re.compile(REQUIRES_GRAD.pattern + r"|with torch\.no_grad\(\)|torch\.inference_mode\(\)")


@dataclass(frozen=True)
class ModuleOffers:
    """What one module offers the files that import it."""

    factories: tuple[FreezingFactory, ...] = ()  # functions and classes that return a model with a frozen part
    trainers: tuple[TrainingFunction, ...] = ()  # functions and classes that put a model they are given in train mode
    instances: tuple[FrozenInstance, ...] = ()  # module-level models frozen there
    eval_keepers: tuple[str, ...] = ()  # classes that keep (a part's) BatchNorm in eval mode through train()
    helpers: tuple[FreezingHelper, ...] = ()  # functions and methods that freeze a model they are handed
    runners: tuple[str, ...] = ()  # classes that keep a model they are handed and train with it, never setting its mode
    # (function, class): functions returning an instance of a class with a freezing method (``build_model``)
    builders: tuple[tuple[str, str], ...] = ()


@functools.lru_cache(maxsize=1024)
def module_offers(path: str, stamp: tuple[int, int]) -> ModuleOffers:
    """The module's offers; a module that freezes nothing and calls no ``.train(`` is not parsed."""
    text = read_text(Path(path))
    # a training function or class trains (backward) and calls .train(); a model's own
    # ``self.head.train(self.training)`` in a library module is neither
    freezes, trains = bool(FREEZING.search(text)), ".train(" in text and any(w in text for w in TRAINING_WORDS)
    overrides = "def train(" in text  # a class that keeps its BatchNorm in eval mode through train()
    runs = "class " in text and ".backward(" in text  # ``class Trainer:`` running the model it keeps
    if not (freezes or trains or overrides or runs):
        return ModuleOffers()  # most modules: nothing here can freeze a model or put one in train mode
    unit = SourceUnit.read_parsed(path)
    if unit is None or unit.tree is None:
        return ModuleOffers()
    runners = tuple(_runner_classes(unit.tree)) if runs else ()
    if not (freezes or trains or overrides):
        return ModuleOffers(runners=runners)
    if not (trains or overrides) and not REQUIRES_GRAD.search(text) and not _no_grad_in_forward(unit.tree):
        return ModuleOffers()  # only no_grad blocks outside forward (weight init, a library's utilities)
    norms = own_norms(unit)
    mark_imported_models(norms, Path(path))  # ``from load_model import model``, frozen here
    helpers = tuple(freezing_helpers(norms)) if freezes else ()
    owners = {helper.function.rpartition(".")[0] for helper in helpers} - {""}
    return ModuleOffers(tuple(freezing_factories(norms) + freezing_classes(norms)) if freezes else (),
                        tuple(training_functions(norms) + training_classes(norms)) if trains else (),
                        tuple(frozen_instances(norms)) if freezes else (),
                        tuple(eval_keeping_classes(unit.tree)) if overrides else (),
                        helpers, runners, instance_builders(unit.tree, owners) if owners else ())


def _runner_classes(tree: ast.Module) -> Iterator[str]:
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef):
            continue
        init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
        if init is not None and any(class_runs_parameter(cls, a.arg) is not None for a in init.args.args[1:]):
            yield cls.name


def _no_grad_in_forward(tree: ast.Module) -> bool:
    """A class's forward pass (``forward`` or a method it calls) has a ``with torch.no_grad():``
    block (a part it never trains)."""
    return any(isinstance(method, ast.FunctionDef) and method.name in forward_methods(cls)
               and any(isinstance(node, ast.With) and "no_grad" in ast.unparse(node.items[0].context_expr)
                       for node in ast.walk(method))
               for cls in tree.body if isinstance(cls, ast.ClassDef) for method in cls.body)


def shown_path(module: Path, script: Path) -> str:
    """A module as a message names it: relative to the linted script's folder."""
    return os.path.relpath(module.resolve(), script.resolve().parent)
