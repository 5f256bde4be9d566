"""Freezes and mode calls carried across a file: through the helpers that freeze or
switch the model they are handed, and through ``self.<name> = model`` in a method.

These passes run after :mod:`frozen_norms` has read every frame of the file.
"""
from __future__ import annotations

import ast
from dataclasses import replace
from typing import Optional

from gradlint.source.call_flags import config_guarded, flag_at, guard_name, guard_of, guarded
from gradlint.source.frames import FileFrames
from gradlint.source.modules import ModuleKinds
from gradlint.source.freeze_facts import Elsewhere, FileNorms, Freeze, ModeCall
from gradlint.source.freeze_forms import in_one_loop, layers_of, related
from gradlint.source.held_locals import attribute_alias
from gradlint.source.last_children import all_bn_reopened, builder_before, reopened_count
from gradlint.source.named_part_freezes import named_at_calls, unfrozen_at_calls
from gradlint.source.names import dotted
from gradlint.source.partial_freezes import extent_parameter
from gradlint.source.call_arguments import argument, bound_parameters
from gradlint.source.chosen_names import chosen_string
from gradlint.source.dead_branches import never_taken, parameter_branch
from gradlint.source.model_factories import returned_parameter


def calls_by_name(frames: FileFrames) -> dict[str, list[ast.Call]]:
    """``helper(...)`` calls of the file, by the plain name called."""
    tree = frames.unit.tree
    assert tree is not None
    calls: dict[str, list[ast.Call]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            calls.setdefault(node.func.id, []).append(node)
    return calls


def through_freezing_helpers(frames: FileFrames, norms: FileNorms) -> None:
    """``def set_requires_grad(model, feature_extracting): if feature_extracting: for p in
    model.parameters(): p.requires_grad = False`` called as ``set_requires_grad(net, True)``
    (or with a flag the caller set to True, or with one of the caller's own parameters,
    which then guards the new freeze): a freeze of ``net`` at the call."""
    tree = frames.unit.tree
    assert tree is not None
    calls = calls_by_name(frames)
    kinds = frames.kinds
    for freeze in list(norms.freezes):
        helper = kinds.frame_of(freeze.node)
        if freeze.how not in ("requires_grad", "requires_grad_") or not isinstance(helper, ast.FunctionDef):
            continue
        root, dot, rest = freeze.target.partition(".")
        params = [a.arg for a in helper.args.args]
        guard = freeze.guard if freeze.guard is not None else guard_of(freeze.node, helper, frames.parents)
        if root not in params or config_guarded(freeze.node, helper, frames.parents) \
                or never_taken(freeze.node, frames.parents, tree):
            continue  # (``if not config["lr"]["freeze_backbone"]: ... else: <freeze>``: a setting not read here)
        if any(related(target, freeze.target) and any(kinds.frame_of(node) is helper and in_one_loop(frames.parents, node, freeze.node)
                                                      for node in nodes) for target, nodes in norms.unfrozen_at.items()):
            continue  # a GAN step helper: the discriminator trainable for its step, frozen for the generator's, each batch
        extent = extent_parameter(freeze.node, frames.parents) if freeze.part else None
        branch = parameter_branch(freeze.node, helper, frames.parents)
        handed_back = returned_parameter(helper) == root
        count = reopened_count(helper, root)  # unfreeze_layers(model, 3): its last three children trainable again
        # (a method freezing its own instance, ``self.freeze()``, is read by method_call_freezes)
        for call in [*calls.get(helper.name, []), *(_self_calls(frames, helper) if guard is None and root != "self" else [])]:
            # (``self.freeze(backbone)`` of a method passes no self: its arguments sit one place earlier)
            lined = bound_parameters(helper) if _through_self(call) else params
            if root not in lined:
                continue
            passed = argument(call, lined.index(root), root)
            model = dotted(passed) if passed is not None else None
            if extent is not None and argument(call, lined.index(extent), extent) is not None:
                continue  # freeze_first(model, n=k): another part than the default's
            if count is not None and model and not _through_self(call) and all_bn_reopened(
                    call, helper, count, builder_before(call, model, kinds.frame_of(call) or tree, frames.names.qualify), tree):
                continue  # a DenseNet's last three children are all it has: nothing with BatchNorm stays frozen
            if branch is not None and (picked := _picked(call, lined, branch[0], kinds, tree)) is not None \
                    and picked != branch[1]:
                continue  # fix_model(model, args.fixmode) with ``--fixmode`` defaulting to "f1", under ``elif fixmode == "f2":``
            kept = frames.parents.get(call)
            if (handed_back and model and isinstance(kept, ast.Assign) and len(kept.targets) == 1
                    and (holder := dotted(kept.targets[0])) and holder != model):
                # self.backbone = self.freeze_backbone(backbone): the frozen model is kept as self.backbone too
                norms.freezes.append(Freeze(holder + dot + rest, freeze.how, call,
                                            via=Elsewhere(helper.name, freeze.node.lineno)))
            flag = (guarded(flag_at(call, helper, guard_name(guard)[0], kinds.frame_of(call), tree), guard_name(guard)[1])
                    if guard is not None else True)
            if model and flag is False and freeze.guard is not None:
                # ``p.requires_grad = requires_grad`` called with True: trainable again
                norms.unfreeze(model + dot + rest, call)
            elif model and flag is not None and flag is not False:
                norms.freezes.append(Freeze(model + dot + rest, freeze.how, call,
                                                 via=Elsewhere(helper.name, freeze.node.lineno),
                                                 guard=flag if isinstance(flag, str) else None))
    # freeze_layers(net, ["conv1", "bn1", "layer1"]): the names at each call
    norms.freezes.extend(named_at_calls(norms.named_by_parameter, kinds, calls, frames.parents))
    # unfreeze_layers(net, ["layer1", "bn1"]): those parts trainable again at each call
    for part, call in unfrozen_at_calls(norms.unfrozen_by_parameter, kinds, calls, frames.parents):
        norms.unfreeze(part, call)


def _self_calls(frames: FileFrames, method: ast.FunctionDef) -> list[ast.Call]:
    """``self.<method>(...)`` calls in the class ``method`` belongs to."""
    cls = frames.kinds.class_of(method)
    return [node for node in ast.walk(cls) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == method.name and dotted(node.func.value) == "self"] if cls is not None else []


def _through_self(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and dotted(call.func.value) == "self"


def _picked(call: ast.Call, params: list[str], parameter: str, kinds: ModuleKinds, tree: ast.Module) -> Optional[str]:
    """The string ``call`` passes the helper's ``parameter``: written there, or a command-line
    option's default (a freeze mode, which the run's default picks)."""
    passed = argument(call, params.index(parameter), parameter)
    return chosen_string(passed, kinds.frame_of(call), tree, options=True) if passed is not None else None


def through_self_attributes(frames: FileFrames, norms: FileNorms) -> None:
    """``model = resnet18(); for p in model.parameters(): ...; self.model = model`` in a
    method: the freeze is of ``self.model``."""
    kinds = frames.kinds
    for freeze in list(norms.freezes):
        method = kinds.frame_of(freeze.node)
        if freeze.target.startswith("self") or method is None or kinds.class_of(freeze.node) is None:
            continue
        # feature_blocks = efficientnet.features; (its freeze): the frozen part is efficientnet.features
        frozen = attribute_alias(method, freeze.target) if isinstance(method, ast.FunctionDef) else freeze.target
        root, dot, rest = frozen.partition(".")
        for node in ast.walk(method):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and (target := dotted(node.targets[0]) or "").startswith("self.")):
                kept = dotted(node.value) or ""
                if isinstance(node.value, ast.Name) and node.value.id == root:
                    norms.freezes.append(Freeze(target + dot + rest, freeze.how, freeze.node, freeze.except_,
                                                     guard=freeze.guard, part=freeze.part))
                elif "." in kept and (kept == frozen or kept.startswith(frozen + ".")):
                    # self.features = model.features, frozen as model.features (or with all of model)
                    norms.freezes.append(Freeze(target, freeze.how, freeze.node, freeze.except_,
                                                     guard=freeze.guard, part=freeze.part))
                elif not rest and node.lineno > freeze.node.lineno and layers_of(node.value, root, method):
                    # self.features = nn.Sequential(*list(resnet.children())[:-2]): frozen layers too
                    norms.freezes.append(Freeze(target, freeze.how, freeze.node, freeze.except_, guard=freeze.guard,
                                                     part=freeze.part))
                elif rest and _holds_part(node.value, frozen):
                    # self.extractor = nn.Sequential(efficientnet.features, efficientnet.avgpool)
                    what = freeze.part.replace("its ", "the ", 1) if freeze.part else "the layers"
                    norms.freezes.append(Freeze(target, freeze.how, freeze.node, freeze.except_, guard=freeze.guard,
                                                part=f"{what} of `{frozen}` it holds"))
            elif (not rest and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "add_module" and len(node.args) == 2 and node.lineno > freeze.node.lineno
                  and (holder := dotted(node.func.value) or "").startswith("self.")
                  and layers_of(node.args[1], root, method)):
                # self.cnn = nn.Sequential(); self.cnn.add_module("backbone", nn.Sequential(*modules[:-1]))
                norms.freezes.append(Freeze(holder, freeze.how, freeze.node, freeze.except_, guard=freeze.guard,
                                            part=freeze.part))


def _holds_part(value: ast.expr, frozen: str) -> bool:
    """``nn.Sequential(efficientnet.features, efficientnet.avgpool)`` holds ``efficientnet.features``."""
    return (isinstance(value, ast.Call) and (dotted(value.func) or "").rpartition(".")[2] == "Sequential"
            and any(dotted(arg) == frozen for arg in value.args))


def through_helpers(frames: FileFrames, norms: FileNorms) -> None:
    """``def train_epoch(net): net.train()`` called as ``train_epoch(model)`` (or a method
    called as ``self.train_epoch(model)`` in its class): the mode call counts for
    ``model`` too (positional or keyword argument)."""
    tree = frames.unit.tree
    assert tree is not None
    calls = calls_by_name(frames)
    kinds = frames.kinds
    self_calls: dict[str, list[ast.Call]] = {}  # self.train_fold(model, ...) in a method of the class
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and dotted(node.func.value) == "self":
            self_calls.setdefault(node.func.attr, []).append(node)
    # (``train_and_evaluate(model)`` calling ``train_model(model)``: a helper's helper, read at each
    # level from the function the call sits in; three levels at most)
    pending: list[tuple[ModeCall, Optional[ast.AST], str]] = [(mode, mode.frame, mode.target) for mode in norms.modes]
    for _ in range(3):
        handed: list[tuple[ModeCall, Optional[ast.AST], str]] = []
        for mode, frame, written in pending:
            if not isinstance(frame, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            root, _, rest = written.partition(".")
            params = [a.arg for a in frame.args.args]
            if root not in params:
                continue
            cls = kinds.class_of(frame.body[0])  # (the class of the method, if it is one)
            from_methods = ([(c, 1) for c in self_calls.get(frame.name, []) if kinds.class_of(c) is cls]
                            if cls is not None and params[0] == "self" and root != "self" else [])
            for call, offset in [(c, 0) for c in calls.get(frame.name, [])] + from_methods:
                passed = argument(call, params.index(root) - offset, root)
                name = dotted(passed) if passed is not None else None
                if name:  # also under the same name: the helper's own frame is not the caller's
                    target = f"{name}.{rest}" if rest else name
                    if mode.site is None:
                        norms.modes.append(ModeCall(target, mode.train, mode.call, mode.stmt, frame, mode.target,
                                                    site=call))
                    else:  # (the first helper's mode call, read at the outer call)
                        norms.modes.append(replace(mode, target=target, site=call))
                    handed.append((norms.modes[-1], kinds.frame_of(call), target))
        pending = handed


def through_constructor_guards(frames: FileFrames, norms: FileNorms) -> None:
    """``def __init__(self, embed_size, train_cnn=False): ... p.requires_grad = train_cnn``:
    a freeze of the class's part that a parameter of ``__init__`` decides is a freeze of the
    class where every construction of it in the file leaves that parameter off (or passes a
    value that freezes), and none where every construction passes one that trains it; a
    class built both ways stays undecided."""
    if not any(freeze.guard is not None and freeze.target.startswith("self.") for freeze in norms.freezes):
        return
    tree = frames.unit.tree
    assert tree is not None
    kinds = frames.kinds
    calls = calls_by_name(frames)
    for index, freeze in enumerate(norms.freezes):
        method, cls = kinds.frame_of(freeze.node), kinds.class_of(freeze.node)
        if (freeze.guard is None or cls is None or not isinstance(method, ast.FunctionDef) or method.name != "__init__"
                or not freeze.target.startswith("self.") or not (built := calls.get(cls.name))):
            continue
        parameter, negated = guard_name(freeze.guard)
        if parameter not in {a.arg for a in method.args.args}:
            continue
        decided = {guarded(flag_at(call, method, parameter, kinds.frame_of(call), tree), negated) for call in built}
        if decided == {True}:
            norms.freezes[index] = replace(freeze, guard=None)
