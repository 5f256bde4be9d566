"""Trainer classes by inheritance (GL406): ``class TrainRes50(BaseTrain)`` in one module, with
``BaseTrain`` imported from another that keeps the model it is given and trains it in train
mode. The subclass trains the model its own ``__init__`` hands on to ``super().__init__``
(or, with no ``__init__`` of its own, the one its base takes), in the base's methods."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from typing import Optional

from gradlint.source.factory_facts import KnownTrainers, Origin, TrainingFunction
from gradlint.source.names import dotted

# ``class TrainRes50(BaseTrain):`` -> the base names a module's classes are written with
_BASES = re.compile(r"^class\s+\w+\s*\(([^)]*)\)\s*:", re.M)


def base_names(text: str) -> frozenset[str]:
    """The simple names module-level classes of ``text`` derive from."""
    return frozenset(name.strip() for bases in _BASES.findall(text) for name in bases.split(",")
                     if re.fullmatch(r"\s*\w+\s*", name))


def subclass_trainers(tree: ast.Module, known: KnownTrainers) -> list[TrainingFunction]:
    """The module's classes whose base is a known trainer class (by the name the module
    imports it as), each training what its ``__init__`` passes the base's model parameter."""
    found: list[TrainingFunction] = []
    for cls in tree.body:
        if not isinstance(cls, ast.ClassDef) or any(t.function == cls.name for t, _ in known.values()):
            continue
        for base in cls.bases:
            if not isinstance(base, ast.Name) or base.id not in known:
                continue
            trainer, where = known[base.id]
            handed = _handed_to_base(cls, base.id, trainer)
            if handed is not None:  # (its line: where it hands the model on, else the class's own)
                found.append(replace(trainer, function=cls.name, index=handed[0], parameter=handed[1], line=handed[2],
                                     origin=trainer.origin or Origin(trainer.function, where, trainer.line), also=()))
            break
    return found


def _handed_to_base(cls: ast.ClassDef, base: str, trainer: TrainingFunction) -> Optional[tuple[int, str, int]]:
    """(index, name, line) of the subclass's ``__init__`` parameter it passes where the base
    takes the model (the call passes no self); the base's own with no ``__init__`` here."""
    init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
    if init is None:
        return trainer.index, trainer.parameter, cls.lineno
    params = [a.arg for a in init.args.args]
    for node in ast.walk(init):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"):
            continue
        owner = node.func.value
        args = list(node.args)
        if isinstance(owner, ast.Call) and dotted(owner.func) == "super":
            pass  # super().__init__(net, size) / super(TrainRes50, self).__init__(net, size)
        elif dotted(owner) == base and args:
            args = args[1:]  # BaseTrain.__init__(self, net, size)
        else:
            continue
        passed = next((k.value for k in node.keywords if k.arg == trainer.parameter), None)
        if passed is None and trainer.index < len(args) and not any(isinstance(a, ast.Starred) for a in args):
            passed = args[trainer.index]
        if isinstance(passed, ast.Name) and passed.id in params[1:]:
            return params.index(passed.id) - 1, passed.id, node.lineno
        return None
    return None
