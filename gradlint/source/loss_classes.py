"""Loss classes of the project (GL215): pix2pix's ``GANLoss`` builds ``self.loss =
nn.BCEWithLogitsLoss()`` when ``gan_mode == 'vanilla'`` (``nn.MSELoss()`` for ``'lsgan'``) and
its ``__call__`` applies ``self.loss`` to the predictions it is given. ``GANLoss('vanilla')``
(or its default) is then that loss, as ``nn.BCEWithLogitsLoss()`` would be."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from gradlint.source.call_arguments import argument
from gradlint.source.call_flags import parameter_default
from gradlint.source.index import file_stamp
from gradlint.source.names import collect_aliases, dotted, qualify, torch_spelled
from gradlint.source.output_flow import LOSSES
from gradlint.source.project_functions import project_import_list
from gradlint.source.reaching_bindings import unwrap
from gradlint.source.torch_calls import torch_calls
from gradlint.source.unit import SourceUnit


@dataclass(frozen=True)
class LossClass:
    """The loss a class applies, by the string its switch parameter is given (None: always)."""

    kinds: tuple[tuple[Optional[str], str], ...]
    switch: Optional[tuple[int, str]] = None  # the ``__init__`` parameter choosing the arm (after self)
    default: Optional[str] = None  # that parameter's string default

    def built(self, call: ast.Call) -> Optional[str]:
        """The loss ``call`` (a construction of the class) applies, where its arguments tell."""
        chosen: Optional[str] = None
        if self.switch is not None:
            given = argument(call, *self.switch)
            chosen = given.value if isinstance(given, ast.Constant) and isinstance(given.value, str) else \
                self.default if given is None else None
            if chosen is None:
                return None
        return dict(self.kinds).get(chosen)


def project_loss_classes(tree: ast.Module, path: Path) -> dict[str, LossClass]:
    """The loss classes of the file and of the project modules it imports, by the name the
    file builds them with (``GANLoss``, ``models.GANLoss``)."""
    found = file_loss_classes(tree)
    if not path.is_file():
        return found
    for item in project_import_list(tree, path):
        if item.name == "*":
            continue
        classes = _module_loss_classes(str(item.path), file_stamp(item.path))
        if item.name == ".":
            found.update((f"{item.local}.{name}", kind) for name, kind in classes.items())
        elif item.name in classes:
            found[item.local] = classes[item.name]
    return found


@functools.lru_cache(maxsize=256)
def _module_loss_classes(path: str, stamp: tuple[int, int]) -> dict[str, LossClass]:
    unit = SourceUnit.read_parsed(path)
    if unit is None or unit.tree is None or "Loss" not in unit.text:
        return {}
    return file_loss_classes(unit.tree, {id(c.node): c.name for c in torch_calls(unit).calls})


def file_loss_classes(tree: ast.Module, names: Optional[dict[int, str]] = None) -> dict[str, LossClass]:
    aliases = collect_aliases(tree)
    found = {}
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef) and (kind := _loss_class(cls, names or {}, aliases)) is not None:
            found[cls.name] = kind
    return found


def _loss_class(cls: ast.ClassDef, names: dict[int, str], aliases: dict[str, str]) -> Optional[LossClass]:
    methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}
    apply = methods.get("__call__") or methods.get("forward")
    init = methods.get("__init__")
    if apply is None or init is None or len(apply.args.args) < 2:
        return None
    predictions = apply.args.args[1].arg
    kept = {target.attr for node in ast.walk(init) if isinstance(node, ast.Assign) for target in node.targets
            if isinstance(target, ast.Attribute) and dotted(target.value) == "self"}
    applied = {call.func.attr for call in ast.walk(apply) if isinstance(call, ast.Call)
               and isinstance(call.func, ast.Attribute) and dotted(call.func.value) == "self" and call.args
               and isinstance(first := call.args[0], ast.Name) and first.id == predictions and call.func.attr in kept}
    if len(applied) != 1:
        return None
    attribute = applied.pop()
    parents = {child: node for node in ast.walk(init) for child in ast.iter_child_nodes(node)}
    kinds: dict[Optional[str], str] = {}
    switch: Optional[str] = None
    for node in ast.walk(init):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and dotted(node.targets[0]) == f"self.{attribute}"):
            continue
        value = unwrap(node.value)
        qualified = names.get(id(value)) if isinstance(value, ast.Call) else None
        kind = LOSSES.get(qualified or qualify(value.func, aliases) or "") if isinstance(value, ast.Call) else None
        test = parents.get(node)
        choice = None
        if isinstance(test, ast.If) and node in test.body and isinstance(compare := test.test, ast.Compare) \
                and isinstance(compare.left, ast.Name) and len(compare.ops) == 1 and isinstance(compare.ops[0], ast.Eq) \
                and isinstance(right := compare.comparators[0], ast.Constant) and isinstance(right.value, str):
            if switch not in (None, compare.left.id):
                return None
            switch, choice = compare.left.id, right.value
        elif test is not init:
            return None  # assigned under a test it cannot read
        if kind is not None:
            kinds[choice] = kind
    if not kinds:
        return None
    if switch is None:
        return LossClass(tuple(kinds.items())) if None in kinds else None
    if switch not in {a.arg for a in init.args.args[1:]}:
        return None
    index, default = parameter_default(init, switch)  # (``self`` counted; a call passes none)
    return LossClass(tuple(kinds.items()), (index - 1, switch),
                     default.value if isinstance(default, ast.Constant) and isinstance(default.value, str) else None)


def held_losses(tree: ast.Module, classes: dict[str, ast.ClassDef], names: dict[int, str]) -> dict[str, str]:
    """The losses an instance of a project class (of the file, or imported) holds as
    attributes, by the name they are called through: ``self.training_config =
    TrainingConfig(model)`` whose ``__init__`` sets ``self.loss_fn = nn.CrossEntropyLoss()``
    -> ``self.training_config.loss_fn``; ``self.NetD = InfoGANDiscriminator(...)`` setting
    ``self.class_loss`` -> ``self.NetD.class_loss`` (a name bound to several classes holds
    the attributes each of them sets)."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call)
                and (target := dotted(node.targets[0])) and (cls := classes.get(dotted(node.value.func) or ""))):
            continue
        for held, loss in _loss_attributes(cls, names).items():
            found.setdefault(f"{target}.{held}", loss)
    return found


def _loss_attributes(cls: ast.ClassDef, names: dict[int, str]) -> dict[str, str]:
    """``self.<attribute> = nn.CrossEntropyLoss()`` in ``cls`` -> {attribute: loss}; a class of
    another file is read by its spelling (``torch.nn.X``, ``nn.X``)."""
    found: dict[str, str] = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and (held := dotted(node.targets[0]) or "").startswith("self.") and held.count(".") == 1 \
                and isinstance(node.value, ast.Call):
            qualified = names.get(id(node.value)) or torch_spelled(dotted(node.value.func) or "")
            if qualified in LOSSES:
                found.setdefault(held[len("self."):], LOSSES[qualified])
    return found
