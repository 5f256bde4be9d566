"""Frozen submodules, their BatchNorm, and the train/eval calls of a file, for GL406.

Facts, all by the dotted name of the module in the source (``model.backbone``):

- ``Freeze``: ``for p in X.parameters(): p.requires_grad = False`` (or
  ``p.requires_grad_(False)``), ``X.requires_grad_(False)``, a call ``X(...)`` inside
  ``with torch.no_grad()`` / ``torch.inference_mode()``, and an optimiser built on
  ``X.head.parameters()`` alone (``X`` minus its head never changes); a flag in place of
  ``False`` (``p.requires_grad = train_cnn``) where :mod:`method_freezes` can decide it;
- ``ModeCall``: ``X.train()`` / ``X.train(True)`` and ``X.eval()`` / ``X.train(False)``;
- whether ``X`` has BatchNorm: :class:`gradlint.source.norm_knowledge.NormKnowledge`;
  unknown is ``False``, and GL406 says nothing about it.
- ``bn_kept_in_eval``: the file switches BatchNorm layers to eval on its own (a loop over
  ``modules()`` calling ``m.eval()``, a ``train()`` override calling ``eval()``, a helper
  named like ``freeze_bn`` / ``set_bn_eval``): trusted, nothing is reported.
"""

from __future__ import annotations

import ast
import re
from typing import Optional

from gradlint.source.frames import FileFrames, file_frames
from gradlint.source.dead_branches import never_taken
from gradlint.source.freeze_facts import MODULE_METHODS, Elsewhere, FileNorms, Freeze, ModeCall  # noqa: F401 - Elsewhere re-exported
from gradlint.source.receivers import lightning_module, plain_object
from gradlint.source.freeze_forms import (calls_eval, comprehension_freeze, holds, in_one_loop, is_false, is_true,
                                          early_slice, joined_owners, keeps_bn_in_eval, late_slice, loop_items, own_method, part_name,
                                          related, requires_grad_flag, requires_grad_value, sliced_name)
from gradlint.source.freeze_propagation import (through_constructor_guards, through_freezing_helpers, through_helpers,
                                                 through_self_attributes)
from gradlint.source.method_freezes import flag_freeze, method_call_freezes, module_helper_calls
from gradlint.source.child_unfreezes import children_after_freeze
from gradlint.source.lightning_steps import hook_evals, lightning_step_modes
from gradlint.source.momentum_copies import momentum_targets
from gradlint.source.no_grad_runners import runs_with_gradients
from gradlint.source.override_runs import override_never_runs
from gradlint.source.method_unfreezes import unfreezes_at_calls
from gradlint.source.unoptimised_runs import unoptimised_runs
from gradlint.source.optimiser_freezes import optimiser_freezes
from gradlint.source.runner_handed_networks import handed_to_training_classes
from gradlint.source.optimised_parts import partly_optimised
from gradlint.source.names import dotted
from gradlint.source.named_parameter_loops import NamedParameterLoops, listed_parameters
from gradlint.source.named_part_freezes import getattr_freeze, listed_names, named_part
from gradlint.source.unread_trainers import unread_trainer_modes
from gradlint.source.children_views import kept_list_owner, layer_listing, sequential_view
from gradlint.source.listed_freezes import (batchnorm_affine_freeze, eval_undone_later, later_items, listed_attribute, listed_modules,
                                          valued_attribute)
from gradlint.source.partial_freezes import partial_freeze
from gradlint.source.string_lists import string_lists
from gradlint.source.norm_knowledge import NormKnowledge
from gradlint.source.unit import SourceUnit

_NO_GRAD = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad"}
# nn.Module methods that do not run the module: ``self.model.eval()`` under no_grad runs nothing
# the Trainer class, or its classmethod constructor (``Trainer.from_argparse_args(args)``)
_LIGHTNING_TRAINER = re.compile(
    r"^(pytorch_lightning|lightning|lightning\.pytorch)(\.trainer(\.trainer)?)?\.Trainer(\.from_argparse_args)?$")
# (also a helper named for putting the frozen modules in eval mode: ``keep_frozen_modules_eval(model)``)
_BN_HELPER = re.compile(r"(freeze|fix|eval|frozen).*(bn|batch_?norm|norm)|(bn|batch_?norm|norm).*(eval|freeze|fix|frozen)"
                        r"|frozen.*eval|eval.*frozen", re.IGNORECASE)

# a module's own parameters: freezing one (``bnneck.bias``) freezes no module
_TENSOR_NAMES = frozenset({"weight", "bias"})


_CHAINED = frozenset({"to", "cuda", "cpu", "half", "float", "double"})  # methods returning the module


class _Collector(NamedParameterLoops):
    def __init__(self, frames: FileFrames) -> None:
        self.frames = frames
        self.norms = FileNorms(frames, knowledge=NormKnowledge(frames))
        self.unfrozen_at = self.norms.unfrozen_at

    def collect(self) -> FileNorms:
        for frame in self.frames.frames:
            self._frame(frame.node)
        tree = self.frames.unit.tree
        assert tree is not None
        for cls in ast.walk(tree):  # a train() override that puts (part of) the model in eval mode
            if (isinstance(cls, ast.ClassDef) and keeps_bn_in_eval(cls)
                    and not override_never_runs(cls, tree, self.frames.parents)):
                self.norms.bn_kept_in_eval = True
            if isinstance(cls, ast.ClassDef):
                self.norms.hook_evals.update(found := hook_evals(cls))
                self.norms.hook_evals_of[cls.name] = found
        if not any(m.by for m in self.norms.modes):  # no trainer.fit here: Lightning still trains its modules
            self.norms.modes.extend(lightning_step_modes(tree, self.frames.names, self.frames._statement_of))
        optimiser_freezes(self.frames, self.norms)
        self.norms.freezes.extend(partly_optimised(self.norms))  # two heads of a model optimised, its backbone not
        self.norms.freezes.extend(unoptimised_runs(self.norms))  # a teacher no optimiser takes
        self.norms.freezes.extend(handed_to_training_classes(self.norms))  # ... or a training class of the project runs
        self.norms.modes.extend(unread_trainer_modes(self.frames))
        through_helpers(self.frames, self.norms)
        through_freezing_helpers(self.frames, self.norms)
        through_constructor_guards(self.frames, self.norms)  # EncoderCNN(256) with train_cnn=False by default
        for _ in range(2):  # a method calling another that freezes (``freeze()`` -> ``self._req_grad(False)``)
            known = {(f.target, id(f.node)) for f in self.norms.freezes}
            self.norms.freezes.extend(f for f in method_call_freezes(self.norms) if (f.target, id(f.node)) not in known)
        through_self_attributes(self.frames, self.norms)
        module_helper_calls(self.norms)  # set_features_trainable(False) on the notebook's model
        unfreezes_at_calls(self.norms)  # model.unfreeze_layers(num_layers=10), not every instance from the start
        self._drop_unfreezes_before_freezes()
        self.norms.moving = moving = momentum_targets(tree)  # BYOL's target network, DINO's teacher: in train mode
        self.norms.freezes = [f for f in self.norms.freezes if not any(holds(m, f.target) for m in moving)]
        return self.norms

    def _drop_unfreezes_before_freezes(self) -> None:
        """``for p in model.parameters(): p.requires_grad = True`` and then, in the same
        function, ``for p in model.backbone.parameters(): p.requires_grad = False``: a reset
        before the freeze, not a freeze undone."""
        kinds = self.frames.kinds
        for target, nodes in self.unfrozen_at.items():
            freezes = [f for f in self.norms.freezes
                       if related(f.target, target) and f.how in ("requires_grad", "requires_grad_")]
            if freezes and all(kinds.frame_of(n) is kinds.frame_of(f.node) and getattr(n, "lineno", 0) < f.node.lineno
                               and not in_one_loop(self.frames.parents, n, f.node)
                               and not self._steps_between(n, f.node) for n in nodes for f in freezes):
                self.norms.unfrozen.discard(target)

    def _steps_between(self, start: ast.AST, end: ast.AST) -> bool:
        """An optimiser steps between ``start`` and ``end`` in their function: a GAN's
        ``for p in netD.parameters(): p.requires_grad = True``, D's step, then the freeze for
        G's step trains the discriminator; it is no reset before a freeze."""
        frame = self.frames.kinds.frame_of(end) or self.frames.unit.tree
        first, last = getattr(start, "lineno", 0), getattr(end, "lineno", 0)
        return frame is not None and any(
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "step"
            and self.frames.names.kind_of(dotted(node.func.value) or "") == "optimizer" and first < node.lineno < last
            for node in ast.walk(frame))

    def _frame(self, scope: ast.AST) -> None:
        from gradlint.source.modules import frame_nodes

        for node in frame_nodes(scope):
            if isinstance(node, (ast.For, ast.AsyncFor)):
                self._parameter_loop(node)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                self._no_grad(node)
            elif isinstance(node, ast.Call):
                self._call(node, scope)
            elif isinstance(node, ast.Expr) and (owner := comprehension_freeze(node.value)) is not None:
                self.norms.freezes.append(Freeze(owner, "requires_grad_", node))

    def _parameter_loop(self, loop: ast.AST) -> None:
        assert isinstance(loop, (ast.For, ast.AsyncFor))
        if (named := getattr_freeze(loop)) is not None:  # for name in ["bn1", "layer1"]: getattr(model, name)...
            names = listed_names(named[1], string_lists(loop, self.frames.parents))
            if names is not None and (part := named_part(named[0], names)):
                self.norms.freezes.append(Freeze(named[0], "requires_grad", loop, part=part))
            elif names is None and isinstance(named[1], ast.Name):  # the helper's parameter: read at its calls
                self.norms.named_by_parameter.append((loop, named[0], named[1].id))
            return
        if not calls_eval(loop) and (owner := batchnorm_affine_freeze(loop)) is not None:  # if BN: <freeze m>
            self.norms.freezes.append(Freeze(owner, "requires_grad", loop, part="the weight and bias of its BatchNorm layers"))
            return
        if (owner := batchnorm_affine_freeze(loop)) is not None and eval_undone_later(loop, owner, self.frames.parents):
            # if BN: m.eval(); <freeze m>, once, before an epoch loop calling model.train(): undone there
            # (reported at the eval the epochs undo)
            undone = next((n for n in ast.walk(loop) if isinstance(n, ast.Expr) and calls_eval(n)), loop)
            self.norms.freezes.append(Freeze(owner, "requires_grad", undone, part="the weight and bias of its BatchNorm "
                                             "layers (put in eval mode once, before the epochs)"))
            return
        partial = partial_freeze(loop, self.frames.parents)
        if partial is not None:  # for p in list(model.parameters())[:-10]: ...
            self.norms.freezes.append(Freeze(partial[0], "requires_grad", loop, part=partial[1]))
            return
        if layer_listing(loop.iter) is not None and calls_eval(loop):
            self.norms.bn_kept_in_eval = True  # for child in list(model.children())[:7]: child.eval()
            return
        it = loop.iter
        if (owners := joined_owners(it)) and isinstance(loop.target, ast.Name) and any(
                requires_grad_value(stmt, loop.target.id) is False for stmt in loop.body):
            # for p in list(enc.block1.parameters()) + list(enc.block2.parameters()): p.requires_grad = False
            self.norms.freezes.extend(Freeze(owner, "requires_grad", loop) for owner in owners)
            return
        if isinstance(it, ast.Name) and isinstance(loop.target, ast.Name) \
                and (whole := listed_parameters(self.frames, loop, it.id)) is not None:
            it = whole  # parameters = list(model.parameters()); for p in parameters: p.requires_grad = trainable
        elif isinstance(it, ast.Name) and isinstance(loop.target, ast.Name):
            # backbone = [p for n, p in m.named_parameters() if not n.startswith("fc.")]; for p in backbone: <freeze>
            self._selected_parameter_loop(loop, it.id)
            return
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute)):
            return
        owner = dotted(it.func.value) or part_name(it.func.value)
        # ``model.body[1:]``: read only where it is made trainable again (the elements before stay frozen)
        reopens_only = owner is None and (owner := late_slice(it.func.value)) is not None
        # ``model.features[:5]``: its first elements frozen (read only where they are frozen)
        sliced = early_slice(it.func.value) if owner is None else None
        if sliced is not None:
            owner = sliced[0]
        if owner is None:
            return
        if it.func.attr in ("modules", "children", "named_modules", "named_children") and calls_eval(loop):
            self.norms.bn_kept_in_eval = True  # for m in model.modules(): if BN: m.eval()
            return
        if it.func.attr == "named_parameters":
            self._named_parameter_loop(loop, owner)
            return
        if it.func.attr != "parameters" or not isinstance(loop.target, ast.Name):
            return
        var = loop.target.id
        tree = self.frames.unit.tree
        assert tree is not None
        view = sequential_view(loop, owner, tree, self.frames.kinds.frame_of) if "." not in owner else None
        if "." not in owner and (kept := kept_list_owner(loop, owner, self.frames.parents, self.frames.kinds.frame_of,
                                                          tree)) is not None:
            owner = kept  # for bl in blocks: <freeze bl>; self.blocks = nn.ModuleList(blocks)
        # for module in [model.down1, model.bottle_neck]: <freeze module>
        listed = listed_modules(self.frames.parents, loop, owner) if "." not in owner else None
        # for layer in model.base_layers: <freeze layer>
        held = listed_attribute(self.frames.parents, loop, owner) if "." not in owner and not listed else None
        # for teacher in self.teachers.values(): <freeze teacher>
        valued = valued_attribute(self.frames.parents, loop, owner) if "." not in owner and not listed else None
        if valued is not None:
            listed, held = [valued], None
        # for block in list(model.features)[6:]: <unfreeze block>: read only where it reopens them
        if "." not in owner and not listed and held is None \
                and (later := later_items(self.frames.parents, loop, owner)) is not None:
            owner, reopens_only = later, True
        for stmt in loop.body:  # only a direct statement: a condition makes the frozen part unknown
            value = requires_grad_value(stmt, var)
            if reopens_only and value is not True or sliced is not None and value is not False:
                continue
            if sliced is not None:
                self.norms.freezes.append(Freeze(owner, "requires_grad", loop, part=sliced[1]))
                continue
            if value is False and view is not None:  # trunk = nn.Sequential(*list(model.children())[:-3])
                self.norms.freezes.append(Freeze(view[0], "requires_grad", loop, part=view[1] or ""))
            elif value is False and held is not None:
                self.norms.freezes.append(Freeze(held[0], "requires_grad", loop, part=held[1]))
            elif value is False:
                self.norms.freezes.extend(Freeze(target, "requires_grad", loop) for target in listed or [owner])
            elif value is True:
                for part in listed or children_after_freeze(self.frames.kinds.frame_of, self.frames.parents,
                                                            self.norms.freezes, loop, owner) or [owner]:
                    self._unfreeze(part, loop)
            elif (flag := requires_grad_flag(stmt, var)) is not None:
                flag_freeze(self.norms, owner, loop, *flag)

    def _no_grad(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.With, ast.AsyncWith))
        names = self.frames.names
        if not any(isinstance(item.context_expr, ast.Call) and (names.qualify(item.context_expr.func) or "") in _NO_GRAD
                   for item in node.items):
            return
        frame = self.frames.kinds.frame_of(node)
        # an evaluation function (``model.eval()`` then ``with torch.no_grad(): model(x)``, or the
        # eval first inside the block) freezes nothing
        # (by position: ``g_eval.eval(); samples = g_eval(z)`` on one line puts it in eval mode first)
        evaluated = [(dotted(call.func.value), (call.lineno, call.col_offset)) for call in ast.walk(frame if isinstance(frame, ast.FunctionDef)
                                                                                 else node)  # (a script: in the block)
                     if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "eval"]
        for stmt in node.body:
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Call) and not isinstance(sub.func, ast.Call):
                    name = dotted(sub.func)
                    if name and name.endswith((".forward", ".__call__")):
                        name = name.rsplit(".", 1)[0]  # self.model.forward(x) runs self.model
                    if (name and (name.startswith("self.") or "." not in name) and name != "self"
                            and name.rsplit(".", 1)[-1] not in MODULE_METHODS
                            and not any(name == put and at < (sub.lineno, sub.col_offset) for put, at in evaluated)
                            and not (name.startswith("self.") and (cls := self.frames.kinds.class_of(node)) is not None
                                     and runs_with_gradients(cls, name, sub, self.frames))):
                        self.norms.freezes.append(Freeze(name, "no_grad", sub))

    def _call(self, call: ast.Call, scope: ast.AST) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            name = dotted(func) or ""
            if _BN_HELPER.search(name.rsplit(".", 1)[-1]):
                self.norms.bn_kept_in_eval = True
                # ``freeze_backbone_bn(model)``: an eval of the model's BatchNorm, read by a script
                # that imports this function too (its model.train() is put back)
                if call.args and (handed := dotted(call.args[0])):
                    self._bn_eval(handed, call, scope)
            return
        receiver = dotted(func.value) or part_name(func.value)
        if receiver is None and func.attr in ("train", "eval"):
            receiver = sliced_name(func.value)  # model.features[:5].eval()
        if func.attr == "apply" and call.args and _BN_HELPER.search(dotted(call.args[0]) or ""):
            self.norms.bn_kept_in_eval = True
            if receiver:
                self._bn_eval(receiver, call, scope)  # model.apply(set_bn_eval)
        if _BN_HELPER.search(func.attr):
            self.norms.bn_kept_in_eval = True
        if func.attr == "fit" and self._lightning_trainer(func.value):
            self._lightning_fit(call, scope)
        if receiver is None and func.attr in ("train", "eval"):
            receiver = self._bound_by(call)  # objective = AffectObjective(path).eval()
        if receiver is None:
            return
        flag = call.args[0] if call.args else next((k.value for k in call.keywords), None)
        if func.attr == "requires_grad_":
            if is_false(flag):
                # (``self.bnneck.bias.requires_grad_(False)`` freezes one parameter, BNNeck's, not a module)
                if receiver.rpartition(".")[2] not in _TENSOR_NAMES:
                    # for module in [model.conv1, model.layer1]: module.requires_grad_(False)
                    stmt = self.frames.parents.get(call)
                    listed = listed_modules(self.frames.parents, stmt, receiver) \
                        if "." not in receiver and isinstance(stmt, ast.Expr) else None
                    self.norms.freezes.extend(Freeze(target, "requires_grad_", call) for target in listed or [receiver])
            elif flag is None or is_true(flag):
                self._unfreeze(receiver, call)
            elif (decided := requires_grad_flag(ast.Expr(call), receiver)) is not None:
                flag_freeze(self.norms, receiver, call, *decided)  # backbone.requires_grad_(train_backbone)
        elif func.attr == "freeze" and not call.args and not call.keywords and lightning_module(self.frames.kinds, self.norms.knowledge, receiver, call):
            # LightningModule.freeze(): requires_grad_(False) and eval(), which the trainer's train() undoes
            self.norms.freezes.append(Freeze(receiver, "requires_grad_", call))
            self.norms.modes.append(ModeCall(receiver, False, call, self.frames._statement_of(call), scope))
        elif (func.attr in ("train", "eval") and len(call.args) + len(call.keywords) <= 1
              and all(k.arg == "mode" for k in call.keywords)  # trainer.train(rounds=10): a method of its own
              and not plain_object(self.frames.kinds, self.norms.knowledge, receiver) and not own_method(self.frames.kinds.class_of(call), receiver, func.attr)):
            train = func.attr == "train" and not is_false(flag)
            if func.attr == "eval" and call.args or _restores_mode(flag, receiver, scope):
                return  # (``model.train(mode=was_training)``: back to the mode it had, whatever it was)
            stmt = self.frames._statement_of(call)
            # (``for net in (source_net, target_net): net.train()`` puts each of them in that mode)
            self.norms.modes.append(ModeCall(receiver, train, call, stmt, scope))
            for each in loop_items(self.frames.parents, call, receiver):
                self.norms.modes.append(ModeCall(each, train, call, stmt, scope, written=receiver))

    def _bound_by(self, call: ast.Call) -> Optional[str]:
        """The name ``call`` (``Net().eval()``, maybe followed by ``.to(device)``) is assigned to."""
        node: ast.AST = call
        parents = self.frames.parents
        while (isinstance(attribute := parents.get(node), ast.Attribute) and attribute.attr in _CHAINED
               and isinstance(outer := parents.get(attribute), ast.Call) and outer.func is attribute):
            node = outer
        bound = parents.get(node)
        if isinstance(bound, ast.Assign) and len(bound.targets) == 1 and bound.value is node:
            return dotted(bound.targets[0])
        return None

    def _bn_eval(self, target: str, call: ast.Call, scope: ast.AST) -> None:
        self.norms.modes.append(ModeCall(target, False, call, self.frames._statement_of(call), scope))

    def _lightning_trainer(self, node: ast.expr) -> bool:
        """``trainer`` bound to ``pl.Trainer(...)`` (or that call itself)."""
        names = self.frames.names
        if isinstance(node, ast.Call):
            qualified = names.qualify(node.func) or ""
        else:
            binding = names.bindings.get(dotted(node) or "")
            qualified = binding.call or "" if binding is not None else ""
        return bool(_LIGHTNING_TRAINER.search(qualified))

    def _lightning_fit(self, call: ast.Call, scope: ast.AST) -> None:
        """``trainer.fit(model)``: Lightning puts the whole model in train mode at every
        training epoch (and back in eval only for validation)."""
        model = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "model"), None)
        name = dotted(model) if model is not None else None
        if name:
            stmt = self.frames._statement_of(call)
            fit = dotted(call.func) or "Trainer(...).fit"  # pl.Trainer(max_epochs=3).fit(model)
            self.norms.modes.append(ModeCall(name, True, call, stmt, scope, by=f"{fit}({name})"))


def own_norms(unit: SourceUnit) -> FileNorms:
    """The file's facts without following its factories and imports; the rule reads
    :func:`gradlint.source.norm_links.file_norms`."""
    assert unit.tree is not None
    norms = _Collector(file_frames(unit)).collect()
    # ``WEIGHTS_FREEZING = False`` ... ``if WEIGHTS_FREEZING: <freeze>``: that freeze never runs
    norms.freezes = [f for f in norms.freezes if not never_taken(f.node, norms.frames.parents, unit.tree)]
    return norms


def _restores_mode(flag: Optional[ast.expr], receiver: str, scope: ast.AST) -> bool:
    """``was_training = model.training`` in the same function, then ``model.train(mode=was_training)``:
    the module goes back to the mode it came in (torchvision's ``visualize_model``)."""
    return isinstance(flag, ast.Name) and any(
        isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == flag.id for t in node.targets)
        and isinstance(node.value, ast.Attribute) and node.value.attr == "training" and dotted(node.value.value) == receiver
        for node in ast.walk(scope))
