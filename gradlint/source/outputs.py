"""Which loss a model's output is fed to (GL215), from one file's ``ast``.

A model is a class of the file or one the file imports from a project-local module
(see :mod:`gradlint.source.endings` for how its output ends), or an ``nn.Sequential``;
the link is the loss call's first argument: ``criterion(model(x), y)``, ``out =
model(x)`` first, one element of a tuple (``validity, label = disc(x)``, ``out[1]``),
or, inside the model's own class, ``self(x)``. A loss handed to the model by a setter
(``model.add_loss_op(nn.NLLLoss())`` storing it in ``self.loss_op``, which a method calls
on ``self(x)``) links at the setter call (:mod:`gradlint.source.handed_losses`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path
from typing import Optional

from gradlint.source.activations import activation_layers, applied_activation, sequential_activation
from gradlint.source.constructed_arms import call_skips_arm
from gradlint.source.dead_branches import never_taken
from gradlint.source.applied_names import applied_names, rebound_activation, short_text
from gradlint.source.endings import Ending, FinalActivation, built_by, file_endings, layer_attributes
from gradlint.source.function_values import own_nodes
from gradlint.source.head_factories import head_factories, imported_head_factories
from gradlint.source.imported_endings import imported_classes
from gradlint.source.index import read_text
from gradlint.source.model_heads import head_attributes
from gradlint.source.logit_endings import PROBABILITY_LOSSES, logit_classes, logit_models
from gradlint.source.handed_losses import LossOfModel as LossOfModel, handed_losses
from gradlint.source.loss_classes import held_losses
from gradlint.source.loss_wrappers import Rebound, fed_losses, imported_wrappers, loss_wrappers
from gradlint.source.loss_factories import binds_factory_loss, returned_loss, returned_losses
from gradlint.source.loss_helpers import (LOSS_WORDS, argument, calls_backward, file_helpers, imported_helpers,
                                         library_helpers)
from gradlint.source.attribute_outputs import attribute_outputs
from gradlint.source.training_losses import not_training, not_yet_bound
from gradlint.source.inherited_endings import inherited_endings
from gradlint.source.output_flow import (LOSSES, SELF_CALLS, Output, OutputBindings, activation_at, activation_of,
                                         dict_losses, model_outputs, output_of, own_calls, unpacked_into, versioned)
from gradlint.source.model_bindings import (ModuleDefinitions, alias_models, branch_union, contradicting_arms,
                                            keep_branch_endings, shadow_other_locals, top_level_versions)
from gradlint.source.names import collect_aliases, dotted, qualify
from gradlint.source.project_functions import project_import_list
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.frames import file_frames
from gradlint.source.reaching_bindings import reaching_choices
from gradlint.source.torch_calls import torch_calls
from gradlint.source.unit import SourceUnit


def losses_of_models(unit: SourceUnit) -> list[LossOfModel]:
    """Every loss call of the file whose first argument is the output of a model that
    ends in softmax or sigmoid."""
    if unit.tree is None:
        return []
    calls = torch_calls(unit)
    if not any(call.name in LOSSES for call in calls.calls) and not any(
            name.rsplit(".", 1)[-1] in unit.text for name in LOSSES) and not _imports_loss_helper(unit) \
            and not binds_factory_loss(unit.tree):
        return []  # no loss of the table in this file or a helper it calls: nothing to link
    names = {id(c.node): c.name for c in calls.calls}
    tree = unit.tree
    aliases = collect_aliases(tree)
    imported = imported_classes(tree, Path(unit.path))
    by_class, classes = file_endings(unit, names, {name: item.ending for name, item in imported.items() if item.ending})
    imported = {name: item for name, item in imported.items() if name not in classes}
    imported_logits = {name: item for name, item in imported.items() if not item.factory}
    by_class.update((name, item.ending) for name, item in imported.items() if item.ending)
    # ``model, size = resnet101()``: a function returning a torchvision model whose head it replaced
    factories = {**imported_head_factories(tree, Path(unit.path)), **head_factories(tree, names)}
    by_class.update((name, ending) for name, ending in factories.items() if name not in by_class)
    class_nodes = {**{name: item.cls for name, item in imported.items()}, **classes}
    models: dict[str, Ending] = {}  # bound name (model, self.net) -> its ending
    instances: dict[str, str] = {}  # bound name -> the class it holds
    losses: dict[str, str] = {}  # bound name (criterion) -> loss
    other_models: dict[str, list[ast.Assign]] = {}  # bound name -> its bindings to models without the ending
    ending_bindings: dict[str, list[ast.Assign]] = {}
    binding_ending: dict[int, Ending] = {}  # each binding in ending_bindings -> the ending it builds
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple)
                and isinstance(node.value, ast.Call)):  # netG, netD = models.ACGAN(args)
            callee = dotted(node.value.func) or ""
            # pixel_loss, adversarial_loss = define_loss(config): the losses a project function returns
            for index, loss in returned_losses(node.value, tree).items():
                if index < len(node.targets[0].elts) and (target := dotted(node.targets[0].elts[index])):
                    losses[target] = loss
            for index, element in enumerate(node.targets[0].elts):
                if f"{callee}[{index}]" in by_class and (target := dotted(element)):
                    models[target] = _alike(models.get(target), by_class[f"{callee}[{index}]"])
                    ending_bindings.setdefault(target, []).append(node)
                    binding_ending[id(node)] = by_class[f"{callee}[{index}]"]
        if not isinstance(node, ast.Assign):
            continue
        for target, bound_value in _bound_pairs(node):
            value = unwrap(bound_value)
            if isinstance(value, ast.ListComp) or isinstance(value, ast.List) and len(value.elts) == 1:
                value = unwrap(value.elt if isinstance(value, ast.ListComp) else value.elts[0])  # [MyNet() for _ in clients]
            if isinstance(value, (ast.Name, ast.Attribute)) and qualify(value, aliases) in LOSSES:
                losses[target] = LOSSES[str(qualify(value, aliases))]  # loss_fn = F.cross_entropy
                continue
            losses.update(dict_losses(target, value, names))  # losses = {"nll": nn.NLLLoss(), ...}
            if not isinstance(value, ast.Call):
                continue
            callee = classmethod_owner(dotted(value.func) or "", class_nodes)
            if callee in class_nodes:
                instances[target] = callee if instances.get(target, callee) == callee else ""
            if callee in by_class and (taken := built_by(by_class[callee], value)):
                if target in models:  # parents read only for a name bound twice
                    parents = parents or {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
                arms = branch_union(target, models[target], ending_bindings.get(target, []), taken, node, parents) \
                    if target in models else None
                models[target] = _alike(models.get(target), taken) | (arms or {})
                ending_bindings.setdefault(target, []).append(node)
                binding_ending[id(node)] = taken
            elif (ending := sequential_activation(value, names)) is not None:
                models[target] = {None: FinalActivation(target, ending[0], ending[1])}
                ending_bindings.setdefault(target, []).append(node)
                binding_ending[id(node)] = models[target]
            elif (made := LOSSES.get(names.get(id(value), "")) or returned_loss(value, tree)) is not None:
                parents = parents or {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
                if not never_taken(node, parents, tree):  # (not in an arm a constant never takes: LOSS = "focal")
                    losses[target] = made  # (also a project function's: loss_fn = utils.retrieve_loss(cfg))
            elif callee in class_nodes or names.get(id(value)) == "torch.nn.Sequential":
                other_models.setdefault(target, []).append(node)  # the name also holds a model without that ending
    for name, loss in held_losses(tree, class_nodes, names).items():  # self.training_config.loss_fn
        losses.setdefault(name, loss)
    _replaced_heads(tree, models, aliases)
    alias_models(tree, models, other_models)
    if models:  # (read once, for every reading of the names bound more than once)
        parents = parents or {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    versions = top_level_versions(tree, ending_bindings, other_models, binding_ending)
    shadowed = keep_branch_endings(models, ending_bindings, other_models, parents) if other_models else {}
    if models:
        shadow_other_locals(tree, models, ending_bindings, shadowed, parents)  # model = DiffPool() in another function
    found = []
    layer_names = activation_layers(tree, names)
    evaluated = not_training(tree, names)  # a loss computed there only reports a number: it trains nothing
    wrappers = loss_wrappers(tree, names, losses)
    rebound = Rebound(tree, names, losses)
    if Path(unit.path).is_file():
        wrappers.update(imported_wrappers(tree, unit.text, Path(unit.path)))
    losses.update((name, pairs[0][0]) for name, pairs in wrappers.items() if [i for _, i, _ in pairs] == [0])
    owners = {id(item): cls for cls in classes.values() for item in cls.body}
    handed_down = inherited_endings(tree, classes, by_class)
    class_layers: dict[int, dict[str, str]] = {}  # a class's activation layers, as ``self.<attribute>``, read once
    kept_outputs: dict[int, dict[str, Output]] = {}  # a class's attributes holding a model's output
    imported_logit_endings = {name: item.logits for name, item in imported_logits.items() if item.logits}
    wants_logits = any(loss in PROBABILITY_LOSSES for loss in losses.values()) or any(
        LOSSES.get(name) in PROBABILITY_LOSSES for name in names.values())
    logit_outputs: dict[int, tuple[dict[str, Ending], dict]] = {}  # per function: its logit models and their outputs
    logit_classes_known: Optional[dict[str, Ending]] = None
    definitions = ModuleDefinitions(tree)
    backpropagates = any(word in unit.text for word in _TRAINING_WORDS)
    for function in [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]:
        visible = {name: ending for name, ending in models.items()
                   if name not in shadowed.get(None if function is tree else function, ())}
        owner = owners.get(id(function))
        if owner is not None and owner.name in by_class and isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            own = function.args.args[0].arg if function.args.args else "self"
            # (an ending a constructor flag's default leads to is not known inside the class: its instances may pass another)
            unflagged = {key: activation for key, activation in by_class[owner.name].items() if not activation.built_with}
            visible.update((own + suffix, unflagged) for suffix in SELF_CALLS if unflagged)
        elif owner is not None and isinstance(function, ast.FunctionDef) and function.args.args and (
                handed := handed_down.get((owner.name, function.name))):  # a base class's step, run by a subclass
            unflagged = {key: activation for key, activation in handed[1].items() if not activation.built_with}
            visible.update((function.args.args[0].arg + suffix, unflagged) for suffix in SELF_CALLS if unflagged)
        bindings = OutputBindings(function, visible, versions if function is tree else None)
        if owner is not None and id(owner) not in class_layers:
            class_layers[id(owner)] = {f"self.{attribute}": kind for attribute, kind in layer_attributes(owner, names).items()}
        known_layers = {**layer_names, **(class_layers[id(owner)] if owner is not None else {})}
        applied = applied_names(function, names, known_layers)
        for call in own_calls(function):
            if id(call) in evaluated:
                continue
            assigned = bindings.at(call)
            if owner is not None:  # ``self.age_pred``, bound to a model's output in forward
                if id(owner) not in kept_outputs:
                    kept_outputs[id(owner)] = attribute_outputs(owner, visible)
                assigned = {**kept_outputs[id(owner)], **assigned}
            for loss, fed in fed_losses(call, names, losses, wrappers, rebound, function):
                if function is tree and (not backpropagates or not_yet_bound(definitions, tree, fed, call, losses)):
                    # a script computing a loss once and never calling backward() trains nothing; and
                    # ``def model(xb)`` still: the model of that name is built further down
                    continue
                here = versioned(visible, versions, call.lineno) if function is tree else visible
                activation = activation_of(output_of(fed, here, assigned))
                if activation is None and (bound := applied.get(_name_of(fed))) and bound.node.lineno < call.lineno:
                    activation = bound  # probs = torch.sigmoid(out) before the loss, not after it
                if activation is None and (rebound_value := rebound_activation(function, fed, call, names, known_layers)):
                    activation = rebound_value  # y = self.linear(x); y = self.activation(y, dim=1): what the loss reads
                if activation is None and (kind := applied_activation(fed, names, layer_names)):
                    activation = FinalActivation(short_text(fed), kind, fed, inline=True)
                if activation is None and loss in PROBABILITY_LOSSES and wants_logits:  # raw logits into BCELoss
                    if logit_classes_known is None:  # (the classes whose output is logits, read once a file)
                        logit_classes_known = {**imported_logit_endings,
                                               **logit_classes(tree, names, imported_logit_endings)}
                    if id(function) not in logit_outputs:
                        scoped = logit_models(tree, names, logit_classes_known, None if function is tree else function)
                        logit_outputs[id(function)] = (scoped, model_outputs(function, scoped))
                    scoped, scoped_outputs = logit_outputs[id(function)]
                    activation = activation_of(output_of(fed, scoped, scoped_outputs))
                if activation is not None:
                    wrapper = dotted(call.func) if dotted(call.func) in wrappers else None
                    found.append(LossOfModel(activation, loss, call, wrapper=wrapper))
    found.extend(handed_losses(tree, instances, class_nodes, by_class, names, losses))
    if models or by_class:
        single = {name: pairs[0][0] for name, pairs in wrappers.items() if [i for _, i, _ in pairs] == [0] and "." not in name}
        found.extend(_through_helpers(unit, models, by_class, names, losses, instances, single, shadowed))
    if any(link.activation.bound_at is not None for link in found):
        parents = parents or {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        found = [link for link in found if link.activation.bound_at is None
                 or not contradicting_arms(link.activation.bound_at, link.call, parents)]
    return sorted(found, key=lambda link: (link.call.lineno, link.call.col_offset))  # the first link is reported


# what a file training a model says somewhere (a backward pass, Lightning's step, a library trainer)
_TRAINING_WORDS = ("backward(", "training_step", "create_supervised_trainer", ".fit(")


def classmethod_owner(callee: str, classes: dict[str, ast.ClassDef]) -> str:
    """``EfficientNet`` for ``EfficientNet.from_pretrained``, a class method of a model class
    (it builds an instance: ``return cls(...)``); else ``callee``."""
    owner, _, method = callee.rpartition(".")
    cls = classes.get(owner)
    if cls is not None and any(isinstance(node, ast.FunctionDef) and node.name == method and any(
            dotted(d) == "classmethod" for d in node.decorator_list) for node in cls.body):
        return owner
    return callee


def _bound_pairs(node: ast.Assign) -> list[tuple[str, ast.expr]]:
    """The names an assignment binds with their values: ``criterion = nn.NLLLoss()``, and
    each pair of ``bce, aux = nn.BCELoss(), nn.CrossEntropyLoss()``."""
    if len(node.targets) != 1:
        return []
    target = node.targets[0]
    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) and len(target.elts) == len(node.value.elts):
        return [(name, value) for element, value in zip(target.elts, node.value.elts) if (name := dotted(element))]
    name = dotted(target)
    return [(name, node.value)] if name else []


def _through_helpers(unit: SourceUnit, models: dict[str, Ending], by_class: dict[str, Ending],
                     names: dict[int, str], losses: dict[str, str], instances: dict[str, str],
                     wrapped: dict[str, str], shadowed: dict[Optional[ast.AST], set[str]]) -> list[LossOfModel]:
    """``train(loader, model, criterion, opt)`` where ``train`` (of the file or a project
    module) calls its loss parameter on its model parameter's output (or hands that output
    to a loss function of the file, ``wrapped``)."""
    tree = unit.tree
    assert tree is not None
    helpers = {**library_helpers(tree), **file_helpers(tree, names, wrapped=wrapped)}
    if Path(unit.path).is_file():
        helpers.update((name, h) for name, h in imported_helpers(tree, unit.text, Path(unit.path)).items() if name not in helpers)
    if not helpers:
        return []
    aliases = collect_aliases(tree)
    built = _constructions(tree, instances)
    found = []
    local_functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
    scopes = {id(node): function for function in ast.walk(tree) if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
              for node in own_nodes(function)}  # (a name another function binds to its own model is not this one)
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        callee = dotted(call.func) or ""
        receiver, _, method = callee.rpartition(".")
        key = f"{instances[receiver]}.{method}" if instances.get(receiver) else callee  # trainer.fit -> Trainer.fit
        for helper in helpers.get(key, ()):
            if not helper.trains or helper.path is None and helper.node is not None and (
                    function := local_functions.get(helper.function)) is not None and call_skips_arm(function, helper.node, call):
                continue  # a helper that only evaluates (no backward), or whose loss is in an arm this call skips
            passed = _unwrap_copy(argument(call, helper.model))
            if isinstance(passed, ast.Call) and dotted(passed.func) in by_class:
                ending: Optional[Ending] = built_by(by_class[str(dotted(passed.func))], passed)  # train(Net(), ...)
            elif passed is not None and dotted(passed) in shadowed.get(scopes.get(id(call)), ()):
                ending = None
            elif isinstance(passed, ast.Name) and (reached := _reaching_build(unit, passed.id, call, by_class)) is not None:
                ending = reached  # ``model = Bert(...)`` ... ``model = RoBERTa(...)``: the one built before this call
            else:
                ending = models.get(dotted(passed) or "") if passed is not None else None
            activation = activation_at(unpacked_into(ending, None), helper.position) if ending else None
            if activation is None:
                continue
            if helper.loss_at_init is not None:  # the loss the receiver was built with
                construction = built.get(receiver)
                given = argument(construction, helper.loss_at_init) if construction is not None else None
                loss = _loss_passed(given, names, losses, aliases)
            else:
                loss = (helper.loss if isinstance(helper.loss, str)
                        else _loss_passed(argument(call, helper.loss), names, losses, aliases))
            if loss is not None:  # every loss the helper applies (BCELoss on one element, CE on the other)
                found.append(LossOfModel(activation, loss, call, through=helper))
    return found


def _reaching_build(unit: SourceUnit, name: str, call: ast.Call, by_class: dict[str, Ending]) -> Optional[Ending]:
    """The ending of the one class construction of ``name`` that reaches ``call`` (the last one
    before it in its function), when ``name`` is rebound to other models elsewhere; else None."""
    choices = reaching_choices(file_frames(unit), name, call)
    if not choices or len(choices) != 1:
        return None
    built = unwrap(choices[0][1])
    if not (isinstance(built, ast.Call) and (cls := dotted(built.func)) in by_class):
        return None
    return built_by(by_class[str(cls)], built)


def _name_of(node: ast.AST) -> str:
    return node.id if isinstance(node, ast.Name) else ""


def _replaced_heads(tree: ast.Module, models: dict[str, Ending], aliases: dict[str, str]) -> None:
    """``model = models.resnet50(weights=...)`` then ``model.fc = nn.Sequential(..., nn.Softmax(1))``:
    ``model`` ends in softmax (its head is its last layer)."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and (target := dotted(node.targets[0]))):
            continue
        value = unwrap(node.value)
        if isinstance(value, ast.Call) and target not in models:
            heads = head_attributes(value, qualify(value.func, aliases), tree)
            replaced = [models[f"{target}.{head}"] for head in heads if f"{target}.{head}" in models]
            if replaced and None in replaced[0]:
                models[target] = {None: replace(replaced[0][None], model=target)}


def _imports_loss_helper(unit: SourceUnit) -> bool:
    """The file calls a helper of a project module that builds its own loss of the table
    (``train(args, generator, discriminator, ...)`` applying CrossEntropyLoss inside), or
    one that returns such a loss of an argument (``eval_loss(validity, real, label_pred, y)``)."""
    assert unit.tree is not None
    if not Path(unit.path).is_file() or not _imports_a_module_naming_a_loss(unit):
        return False
    if "backward(" in unit.text and _HELD_LOSS_CALL.search(unit.text):
        return True  # net.class_loss(label, y): a loss an imported class keeps (see held_losses)
    return any(isinstance(h.loss, str) for helpers in imported_helpers(unit.tree, unit.text, Path(unit.path)).values()
               for h in helpers) or bool(imported_wrappers(unit.tree, unit.text, Path(unit.path)))


_HELD_LOSS_CALL = re.compile(r"\.\w*(loss|criterion)\w*\(", re.IGNORECASE)


def _imports_a_module_naming_a_loss(unit: SourceUnit) -> bool:
    """A cheap look first: a project module the file imports names a loss of the table."""
    assert unit.tree is not None
    targets = {item.path for item in project_import_list(unit.tree, Path(unit.path))}
    return any(word in read_text(target) for target in targets for word in LOSS_WORDS)



def _constructions(tree: ast.Module, instances: dict[str, str]) -> dict[str, ast.Call]:
    """The call that built each instance of a project class the file binds (the last one)."""
    found: dict[str, ast.Call] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and (name := dotted(node.targets[0])) in instances
                and isinstance(value := unwrap(node.value), ast.Call)):
            found[name] = value
    return found


def _unwrap_copy(node: Optional[ast.expr]) -> Optional[ast.expr]:
    """``copy.deepcopy(model)`` is that model, with the same output, as are ``model.float()``
    and ``model.to(device)``."""
    if isinstance(node, ast.Call) and (dotted(node.func) or "").endswith("deepcopy") and node.args:
        return node.args[0]
    return unwrap(node) if node is not None else None


def _loss_passed(given: Optional[ast.expr], names: dict[int, str], losses: dict[str, str],
                 aliases: dict[str, str]) -> Optional[str]:
    """The loss an argument is: ``nn.CrossEntropyLoss()``, ``criterion``, ``F.cross_entropy``."""
    if given is None:
        return None
    if isinstance(given, ast.Call):
        return LOSSES.get(names.get(id(given), ""))
    return losses.get(dotted(given) or "") or LOSSES.get(str(qualify(given, aliases)))


def _alike(bound: Optional[Ending], ending: Ending) -> Ending:
    """The ending of a name bound to two classes (in two branches): the outputs both end
    in, each naming the other class; only the new class's when the name had no ending."""
    if not bound:
        return ending
    merged: Ending = {}
    for position, first in bound.items():
        other = ending.get(position)
        if other is None or other.kind != first.kind:
            continue
        known = {(a.model, a.path) for a in (first, *first.also)}
        merged[position] = first if (other.model, other.path) in known else replace(first, also=(*first.also, other))
    return merged


def backpropagating_calls(unit: SourceUnit) -> set[int]:
    """The calls of the file that sit in a function calling ``.backward()`` itself."""
    functions = [node for node in ast.walk(unit.tree) if isinstance(node, ast.FunctionDef)] if unit.tree is not None else []
    return {id(call) for function in functions if calls_backward(function) for call in own_calls(function)}
