"""A LightningModule that defines ``training_step`` is trained in train mode by Lightning's
Trainer, whether or not ``trainer.fit(...)`` is in the linted files (it is often in a
notebook or a launcher script of another project): the Trainer calls ``train()`` on the
whole module before every training epoch.

Read only when the file calls no Lightning ``fit`` itself (that call is the better place
to report, and names the model): the mode call is then pinned on the first call inside
``training_step``, so that it belongs to the class and follows the freeze in ``__init__``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Callable, Optional

from gradlint.source.freeze_facts import Elsewhere, ModeCall
from gradlint.source.freeze_forms import is_false, part_name
from gradlint.source.names import Names, dotted
from gradlint.source.project_functions import project_import_list
from gradlint.source.tree_paths import path_of
from gradlint.source.unit import SourceUnit

# the text ``_report`` of GL406 recognises: no call of the file put it in train mode
LIGHTNING_TRAINER = "Lightning's Trainer"
_FIT = re.compile(r"\.fit\(")


def lightning_step_modes(tree: ast.Module, names: Names, statement_of: Callable[[ast.AST], ast.stmt]) -> list[ModeCall]:
    """One train-mode call per LightningModule class of the file with a ``training_step``
    (its own or one of a base class of the file: ``class Transfer(LightningBase)``)."""
    classes = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    modes: list[ModeCall] = []
    script = path_of(tree)
    for cls in classes.values():
        lineage = _lineage(cls, classes)
        step = _training_step(lineage, names)
        if step is None and script is not None:  # class ResNetClassifier(BaseClassifier), BaseClassifier imported
            step = _imported_training_step(lineage, tree, script)
        if step is None or any(_evals_each_step(c) for c in lineage):
            continue
        # pinned on a call of the class itself (a mode call belongs to the class it is in): the
        # first of its own training_step, else its last one
        own = [node for node in ast.walk(step) if isinstance(node, ast.Call)] if step in cls.body else sorted(
            (node for node in ast.walk(cls) if isinstance(node, ast.Call)), key=lambda n: (n.lineno, n.col_offset))[-1:]
        if own:
            modes.append(ModeCall("self", True, own[0], statement_of(own[0]), step, by=LIGHTNING_TRAINER))
    return modes


def _training_step(lineage: list[ast.ClassDef], names: Names) -> Optional[ast.AST]:
    """The ``training_step`` of a LightningModule class (its own or a base class's of the
    file), given the class and its bases (:func:`_lineage`)."""
    if not any((names.qualify(base) or "").endswith("LightningModule") for c in lineage for base in c.bases):
        return None
    return next((item for c in lineage for item in c.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and item.name == "training_step"), None)


def _imported_training_step(lineage: list[ast.ClassDef], tree: ast.Module, script: Path,
                            depth: int = 0) -> Optional[ast.AST]:
    """The ``training_step`` of a LightningModule base class a project module defines (a
    few modules up): ``from models.base_classifier import BaseClassifier``."""
    imports = {item.local: item for item in project_import_list(tree, script) if item.name not in ("*", ".")}
    for base in (b for c in lineage for b in c.bases if isinstance(b, ast.Name) and b.id in imports):
        item = imports[base.id]
        unit = SourceUnit.read_parsed(str(item.path))
        if unit is None or unit.tree is None:
            continue
        there = {node.name: node for node in unit.tree.body if isinstance(node, ast.ClassDef)}
        if item.name not in there:
            continue
        inherited = _lineage(there[item.name], there)
        if any((dotted(b) or "").endswith("LightningModule") for c in inherited for b in c.bases):
            step = next((f for c in inherited for f in c.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and f.name == "training_step"), None)
            if step is not None:
                return step
        if depth < 2 and (further := _imported_training_step(inherited, unit.tree, item.path, depth + 1)) is not None:
            return further
    return None


def _lineage(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> list[ast.ClassDef]:
    """The class and its base classes defined in the same file, nearest first."""
    found = [cls]
    for klass in found:
        for base in klass.bases:
            parent = classes.get(base.id if isinstance(base, ast.Name) else "")
            if parent is not None and parent not in found:
                found.append(parent)
    return found


def _evals_each_step(cls: ast.ClassDef) -> bool:
    """``self.backbone.eval()`` in ``training_step`` or ``forward``: put back in eval mode
    at every step, after the Trainer's ``train()``."""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "eval"
               for item in cls.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
               and item.name in ("training_step", "forward") for node in ast.walk(item))


def trained_where_defined(linted: str, via: Elsewhere) -> bool:
    """The freeze was followed into a LightningModule class of another project file
    (``via`` or a function it passes through) that defines ``training_step``, in a file
    that calls no Lightning ``fit``: that file reports it (:func:`lightning_step_modes`),
    so the script fitting the model does not again."""
    level: Optional[Elsewhere] = via
    while level is not None:
        if level.path is not None and _lightning_class_at(Path(linted).parent / level.path, level.line):
            return True
        level = level.inner
    return False


def _lightning_class_at(path: Path, line: int) -> bool:
    """A LightningModule class with a ``training_step`` holds ``line`` of ``path``, a file
    calling no ``fit``: that file reports the freeze, or its class keeps it in eval."""
    unit = SourceUnit.read_parsed(str(path))
    if unit is None or unit.tree is None or _FIT.search(unit.text):
        return False
    names = Names(unit.tree)
    classes = {node.name: node for node in ast.walk(unit.tree) if isinstance(node, ast.ClassDef)}
    return any(cls.lineno <= line <= (cls.end_lineno or cls.lineno) and _training_step(_lineage(cls, classes), names) is not None
               for cls in classes.values())


# Lightning calls ``train()`` on the module before each training epoch (and after validation);
# these hooks run after it (``training_step`` and the ``forward`` it calls at every step)
_TRAIN_HOOKS = ("on_train_epoch_start", "on_train_batch_start", "training_step", "forward")


def hook_evals(cls: ast.ClassDef) -> set[str]:
    """What the class's Lightning hooks and steps put in eval mode: ``self.teacher`` (``self``
    for ``self.eval()``). ``on_train_start`` runs once, after Lightning's first ``train()``: it
    holds for the whole fit when the class has no ``validation_step``, whose loop ends in
    ``train()`` again (PatchCore's memory-bank "training")."""
    found: set[str] = set()
    methods = {m.name for m in cls.body if isinstance(m, ast.FunctionDef)}
    hooks = _TRAIN_HOOKS + (("on_train_start",) if "validation_step" not in methods else ())
    for method in cls.body:
        if isinstance(method, ast.FunctionDef) and method.name in hooks:
            for node in ast.walk(method):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and (node.func.attr == "eval" or node.func.attr == "train" and node.args and is_false(node.args[0]))
                        and (name := dotted(node.func.value) or part_name(node.func.value))):
                    found.add(name)
    return found
