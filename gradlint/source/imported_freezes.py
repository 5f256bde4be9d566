"""GL406's freezes that come from what a script imports of a project module: a model frozen
at the module level there (``from model import *``), a freezing helper called here
(``freeze_backbone(model)``, ``model.freeze_backbone()``), and instances of classes that keep
their BatchNorm in eval mode themselves."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Optional, Union

from gradlint.source.attribute_branches import takes_arm
from gradlint.source.call_flags import guard_at
from gradlint.source.chosen_names import chosen_string
from gradlint.source.freeze_forms import related
from gradlint.source.frozen_norms import Elsewhere, FileNorms, Freeze
from gradlint.source.index import FileIndex, file_stamp, read_text
from gradlint.source.model_factories import returned_values
from gradlint.source.module_offers import module_offers, shown_path
from gradlint.source.named_part_freezes import listed_names, named_part
from gradlint.source.names import dotted
from gradlint.source.factory_facts import FreezingHelper
from gradlint.source.call_arguments import argument
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.reaching_bindings import PARALLEL_WRAPPERS
from gradlint.source.project_classes import project_class
from gradlint.source.string_lists import string_lists
from gradlint.source.project_functions import project_import_list
from gradlint.source.unit import SourceUnit, call_spelling


def link_instances(norms: FileNorms, script: Path) -> None:
    """``from model import *`` (or ``import model``) of a module that builds and freezes a
    module-level ``model``: a freeze of ``model`` (``model.model``) at the import."""
    tree = norms.frames.unit.tree
    text = norms.frames.unit.text
    assert tree is not None and norms.knowledge is not None
    for item in project_import_list(tree, script):
        target, local, imported = item.path, item.local, item.name
        if not any(word in read_text(target) for word in ("requires_grad", "def train(")):
            continue
        for instance in module_offers(str(target), file_stamp(target)).instances:
            spelled = (instance.name if imported == "*" else local if imported == instance.name
                       else f"{local}.{instance.name}" if imported == "." else None)
            if spelled is None or not re.search(rf"(?<![\w.]){re.escape(spelled)}\b", text.replace(_line(text, item.node), "")):
                continue
            if instance.unfrozen_by and _unfrozen_where_used(norms, spelled, instance.unfrozen_by):
                continue
            norms.knowledge.imported_bn.add(spelled)
            via = Elsewhere(instance.name, instance.line, shown_path(target, script))
            # a plain name the module never puts in eval mode is in train mode when it is imported
            built_by = spelled if "." not in spelled and not instance.puts_in_eval else None
            norms.freezes.append(Freeze(spelled + instance.rest, "imported", item.node, via=via, built_by=built_by))
        keepers = module_offers(str(target), file_stamp(target)).eval_keepers
        spelled_keepers = {f"{local}.{name}" if imported == "." else name if imported == "*" else local
                           for name in keepers if imported in (name, "*", ".")}
        if spelled_keepers:
            _mark_eval_kept(norms, spelled_keepers)


def _unfrozen_where_used(norms: FileNorms, spelled: str, functions: tuple[str, ...]) -> bool:
    """The script calls one of ``functions`` (which unfreeze the imported model) other than
    in the opposite branch of an ``if`` from its first use of ``spelled``: ``model =
    pretrained_model`` under ``if args.model == "":`` and ``model = load_and_unfreeze(path)``
    under ``else:`` train two models, and the first stays frozen."""
    tree = norms.frames.unit.tree
    assert tree is not None
    uses = [node for node in ast.walk(tree) if isinstance(node, (ast.Name, ast.Attribute))
            and isinstance(node.ctx, ast.Load) and dotted(node) == spelled]
    if not uses:
        return False
    first = min(uses, key=lambda node: (node.lineno, node.col_offset))
    return any(isinstance(node, ast.Call) and (name := dotted(node.func)) is not None
               and name.rpartition(".")[2] in functions and not norms.frames.exclusive(node, first)
               for node in ast.walk(tree))


def link_freezing_helpers(norms: FileNorms, script: Path) -> None:
    """``freeze_backbone(model)`` with ``from model import freeze_backbone`` (or ``import
    model``), a project function that freezes a part of the model it is handed, or
    ``model.freeze_backbone()``, a method of the imported class ``model`` was built from: a
    freeze of ``model.features`` at the call (when its flag, if any, asks for one). A helper
    that makes the part trainable again (``model.unfreeze_all()``) undoes it."""
    tree = norms.frames.unit.tree
    text = call_spelling(norms.frames.unit.text)
    assert tree is not None
    spelled: dict[str, list[tuple[FreezingHelper, Path]]] = {}
    for item in project_import_list(tree, script):
        if item.name not in ("*", ".") and f"{item.local}(" not in text or item.name == "." and f"{item.local}." not in text:
            continue
        offers = module_offers(str(item.path), file_stamp(item.path))
        for helper in offers.helpers:
            owner, _, method = helper.function.rpartition(".")  # a method: ``PlantNet.freeze_backbone``
            # (``model = build_model(cfg)``, a function of the module returning a ``PlantNet``, builds one too)
            for first in [owner or helper.function, *(f for f, built in offers.builders if owner and built == owner)]:
                name = (first if item.name == "*" else f"{item.local}.{first}" if item.name == "."
                        else item.local if item.name == first else None)
                if name is not None:
                    spelled.setdefault(f"{name}.{method}" if owner else name, []).append((helper, item.path))
        if item.name not in ("*", "."):  # ``get_model(args)`` of ``helper.py`` returning a ``CenterNet`` of ``net.py``
            for helper, module in builder_methods(item.path, item.name, script):
                spelled.setdefault(f"{item.local}.{helper.function.rpartition('.')[2]}", []).append((helper, module))
    if not spelled:
        return
    assert norms.knowledge is not None
    # ``model.freeze_backbone()``: the method of the class ``model`` was built from
    methods: dict[str, tuple[str, str]] = {}  # "model.freeze_backbone" -> ("model", "PlantNet.freeze_backbone")
    builds: dict[str, ast.expr] = {}  # "model" -> the call that built it (``Unet(..., backbone=backbone)``)
    for bound, values in norms.knowledge.bindings.items():
        for bound_value in values:
            built = unwrap(bound_value)
            class_name = dotted(built.func) if isinstance(built, ast.Call) else None
            for key in spelled:
                owner, _, method = key.rpartition(".")
                if class_name and owner == class_name:
                    methods[f"{bound}.{method}"] = (bound, key)
                    methods[f"{bound}.module.{method}"] = (f"{bound}.module", key)  # (a DataParallel wrapper's model)
                    builds[bound] = built
    unfreezes: list[tuple[str, ast.Call]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or (called := dotted(node.func)) is None:
            continue
        receiver: Optional[str]
        receiver, callee = methods.get(called, (None, called))
        for helper, module in spelled.get(callee, []):
            instance = builds.get(receiver.removesuffix(".module")) if receiver else None
            if helper.arm is not None and not (instance is not None and takes_arm(
                    helper.arm, instance, norms.frames.kinds.frame_of(instance), tree)):
                continue  # the arm of ``if self.backbone == "resnet50":`` this instance does not take
            _link_call(norms, node, receiver, helper, module, script, unfreezes)
    kinds = norms.frames.kinds
    for target, node in unfreezes:  # made trainable again, unless before every freeze of it in its function
        if not any(related(f.target, target) and kinds.frame_of(f.node) is kinds.frame_of(node)
                   and f.node.lineno > node.lineno for f in norms.freezes):
            norms.unfreeze(target, node)


def builder_methods(module: Path, function: str, script: Path) -> list[tuple[FreezingHelper, Path]]:
    """The freezing methods of the project class that ``function``, a function of the
    project file ``module``, returns an instance of when that class is defined in another
    project file (``return nn.DataParallel(CenterNet(...))`` in ``helper.py``, the class and
    its ``freeze_backbone`` in ``net/centernet.py``), with that file."""
    read = SourceUnit.read_parsed(str(module))
    tree = read.tree if read is not None else None
    defined = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function),
                   None) if tree is not None else None
    if tree is None or defined is None:
        return []
    found: list[tuple[FreezingHelper, Path]] = []
    for value in returned_values(defined):
        built = _wrapped(value, defined)
        if built is None:
            continue
        cls = project_class(built.func, tree, module, FileIndex(), entry=script)
        if cls is None or cls.path.resolve() == module.resolve():
            continue  # (a class of the builder's own file is read by the module's offers)
        offers = module_offers(str(cls.path), file_stamp(cls.path))
        found += [(helper, cls.path) for helper in offers.helpers
                  if helper.function.rpartition(".")[0] == cls.node.name and helper.arm is None]
    return found


def _wrapped(value: ast.expr, function: ast.FunctionDef) -> Optional[ast.Call]:
    """The call that built the model ``value`` is, also through a DataParallel wrapper of a
    name the function binds once (``net = CenterNet(); return nn.DataParallel(net)``)."""
    value = unwrap(value)
    if isinstance(value, ast.Call) and (dotted(value.func) or "").rpartition(".")[2] in PARALLEL_WRAPPERS \
            and value.args:
        inner = unwrap(value.args[0])
        if isinstance(inner, ast.Name):
            bound = [node.value for node in ast.walk(function) if isinstance(node, ast.Assign)
                     and any(isinstance(t, ast.Name) and t.id == inner.id for t in node.targets)]
            inner = unwrap(bound[0]) if len(bound) == 1 else inner
        # (``model = DataParallel(model)`` after ``model = CenterNet()``: each binding is a returned value)
        return inner if isinstance(inner, ast.Call) else None
    return value if isinstance(value, ast.Call) else None


def _link_call(norms: FileNorms, node: ast.Call, receiver: Optional[str], helper: FreezingHelper, module: Path,
               script: Path, unfreezes: list[tuple[str, ast.Call]]) -> None:
    """The freeze (or unfreeze) one call of a freezing helper makes."""
    tree = norms.frames.unit.tree
    assert tree is not None
    if helper.branch is not None and (chosen := argument(node, helper.branch[0], helper.branch[1])) is not None \
            and (picked := chosen_string(chosen, norms.frames.kinds.frame_of(node), tree, options=True)) is not None \
            and picked != helper.branch[2]:
        return  # lock("remote_sensing"): not the arm under ``if which == "ground_image":``
    if helper.reopened is not None and (chosen := argument(node, helper.reopened[0], helper.reopened[1])) is not None \
            and chosen_string(chosen, norms.frames.kinds.frame_of(node), tree, options=True) in helper.reopened[2]:
        return  # set_trainable_params(model, "full_finetune"): the arm that makes it all trainable again
    passed = argument(node, helper.index, helper.parameter) if receiver is None else None
    model = receiver or (dotted(passed) if passed is not None else None)
    if model is None and passed is not None and helper.returns_it:
        model = _result_name(node, norms.frames.parents)  # net = freeze_features(build(n)).to(device)
    runs: Union[None, bool, str] = (True if helper.guard is None
                                     else guard_at(node, helper.guard, norms.frames.kinds.frame_of(node), tree))
    if model and helper.names is not None:  # freeze_layers(net, ["conv1", "bn1", "layer1"])
        listed = argument(node, *helper.names)
        names = listed_names(listed, string_lists(node, norms.frames.parents)) if listed is not None else None
        if names and (part := named_part(model + helper.rest, names)):
            norms.freezes.append(Freeze(model + helper.rest, helper.how, node, part=part,
                                        via=Elsewhere(helper.function, helper.line, shown_path(module, script))))
    elif model and (helper.how == "unfreeze" and runs is True or runs is False and helper.sets_flag):
        unfreezes.append((model + helper.rest, node))  # (``set_trainable(True)`` of ``p.requires_grad = flag``)
    elif model and helper.extent is not None and argument(node, *helper.extent) is not None:
        return  # set_parameter_requires_grad(model, n_layer=k): another part than the default's
    elif model and runs is not False and runs is not None:
        norms.freezes.append(Freeze(model + helper.rest, helper.how, node, part=helper.part,
                                    via=Elsewhere(helper.function, helper.line, shown_path(module, script)),
                                    guard=runs if isinstance(runs, str) else None))


def _result_name(call: ast.Call, parents: dict) -> Optional[str]:
    """The name ``call``'s result is bound to, also through a method chain on it
    (``net = helper(...).to(device)``)."""
    node: ast.AST = call
    while isinstance(parent := parents.get(node), ast.Attribute) and isinstance(grand := parents.get(parent), ast.Call) \
            and grand.func is parent:
        node = grand
    parent = parents.get(node)
    if isinstance(parent, ast.Assign) and parent.value is node and len(parent.targets) == 1:
        return dotted(parent.targets[0])
    return None


def _mark_eval_kept(norms: FileNorms, classes: set[str]) -> None:
    """Names of the file bound to an instance of a class that keeps its frozen part's
    BatchNorm in eval mode itself (a ``train()`` override in its module)."""
    assert norms.knowledge is not None
    for name, values in norms.knowledge.bindings.items():
        if any(isinstance(v := unwrap(value), ast.Call) and dotted(v.func) in classes for value in values):
            norms.knowledge.eval_kept.add(name)


def _line(text: str, node: ast.stmt) -> str:
    return "\n".join(text.splitlines()[node.lineno - 1:(node.end_lineno or node.lineno)])
