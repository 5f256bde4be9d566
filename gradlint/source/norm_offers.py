"""What one file offers GL406 across files: its freezing factories and classes (a
function or ``__init__`` that freezes a part with BatchNorm of the model it builds), its
freezing helpers, and its module-level models frozen at module level (its training
functions and classes are in :mod:`gradlint.source.training_offers`).
:mod:`gradlint.source.norm_links` reads them from the modules a script imports."""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Optional

from gradlint.source.call_arguments import is_static
from gradlint.source.attribute_branches import attribute_arm
from gradlint.source.call_flags import config_guarded, guard_flag, guard_of, parameter_default
from gradlint.source.numeric_guards import numeric_guard
from gradlint.source.dead_branches import parameter_branch
from gradlint.source.freeze_forms import calls_eval, holds, keeps_bn_in_eval, related, trains_a_stage, undone
from gradlint.source.frozen_norms import FileNorms
from gradlint.source.held_locals import (attribute_alias, kept_in_self, layers_handed, layers_taken, returned_holder,
                                         spliced_in_self)
from gradlint.source.method_unfreezes import public_method
from gradlint.source.no_grad_runners import forward_methods
from gradlint.source.partial_freezes import extent_parameter
from gradlint.source.names import dotted
from gradlint.source.bn_builders import PLAIN_STEM_PARTS
from gradlint.source.project_classes import kept_from_parameter
from gradlint.source.reaching_bindings import bound_value
from gradlint.source.model_factories import returned_names, returned_parameter
from gradlint.source.factory_facts import FreezingFactory, FreezingHelper, FrozenInstance, folded_factories


def module_functions(tree: ast.Module) -> dict[int, tuple[str, int]]:
    """id -> (name, how many arguments a call passes before the first parameter) of the
    module's functions (``fit``, 0) and of its classes' methods other than ``__init__``
    (``Trainer.train``, 1: the call passes no self). A class's ``__new__`` is the class itself:
    ``class Encoder: def __new__(cls): net = resnet18(); <freeze>; return net`` is a factory
    that ``Encoder()`` calls."""
    functions = {id(node): (node.name, 0) for node in tree.body if isinstance(node, ast.FunctionDef)}
    functions.update((id(method), (cls.name if method.name == "__new__" else f"{cls.name}.{method.name}",
                                   0 if is_static(method) else 1)) for cls in tree.body
                     if isinstance(cls, ast.ClassDef)
                     for method in cls.body if isinstance(method, ast.FunctionDef) and method.name != "__init__")
    return functions




def freezing_factories(norms: FileNorms) -> list[FreezingFactory]:
    """The file's module-level functions that freeze a local model with BatchNorm and return
    it, and such methods of its module-level classes (``def pretrained(self): model =
    resnet18(); ...; return model``, named ``ImageClassifier.pretrained``)."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    functions = module_functions(tree)
    by_name: dict[str, ast.FunctionDef] = {}
    found: dict[str, FreezingFactory] = {}
    picked: dict[str, list[Optional[tuple[str, str]]]] = {}  # each freeze's branch: (parameter, value) or None
    for freeze in norms.freezes:
        if freeze.how not in ("requires_grad", "requires_grad_"):
            continue
        function = norms.frames.kinds.frame_of(freeze.node)
        if not isinstance(function, ast.FunctionDef) or id(function) not in functions:
            continue
        name, offset = functions[id(function)]
        root, dot, rest = freeze.target.partition(".")
        built = _bound_before(function, root, freeze.node.lineno)
        returned = returned_names(function, tree)
        holder = returned_holder(function, root, returned, tree) if root not in returned else None
        if holder is not None:  # ``model = Dual(backbone=backbone)``; ``return model``: its .backbone is frozen
            root, dot, rest = holder[0], ".", holder[1] + dot + rest
        # (a model local to the factory is made trainable again only there: another factory's
        # ``model.layer3`` says nothing of it)
        unfrozen = unfrozen_for(norms, function, root, freeze.node)
        if (root not in returned or root == "self" or undone(unfrozen, freeze.target)
                or config_guarded(freeze.node, function, norms.frames.parents)
                or built is None or not norms.knowledge.has_batchnorm_there(freeze.target, freeze.node)):
            continue
        by_name[name] = function
        picked.setdefault(name, []).append(parameter_branch(freeze.node, function, norms.frames.parents))
        if name in found:
            continue
        guard = guard_of(freeze.node, function, norms.frames.parents) if freeze.guard is None else freeze.guard
        flag = guard_flag(function, guard) if guard is not None else None
        compare = numeric_guard(freeze.node, function, norms.frames.parents) if flag is None else None
        found[name] = FreezingFactory(name, dot + rest, freeze.node.lineno, freeze.how,
                                      (flag[0] - offset, flag[1], flag[2]) if flag else None,
                                      compare=(compare[0] - offset, *compare[1:]) if compare else None,
                                      position=returned[root], puts_in_eval=calls_eval(function),
                                      branch=norms.knowledge.bn_branch(freeze.target, freeze.node), part=freeze.part,
                                      partial=_stages_reopened(unfrozen, freeze.target))
    for name, factory in found.items():
        branches = picked[name]
        parameters = {branch[0] for branch in branches if branch is not None}
        if None not in branches and len(parameters) == 1:  # every freeze sits in a branch of one string parameter
            parameter = parameters.pop()
            index, _ = parameter_default(by_name[name], parameter)
            index -= functions[id(by_name[name])][1]
            found[name] = replace(factory, choice=(index, parameter, frozenset(b[1] for b in branches if b)),
                                  mode_choice=True)
    return list(found.values())


def freezing_helpers(norms: FileNorms) -> list[FreezingHelper]:
    """The file's module-level functions that freeze (part of) a model they are handed, for
    the scripts that import them (the file's own calls are read by ``frozen_norms``)."""
    tree = norms.frames.unit.tree
    assert tree is not None
    # (``model.freeze_backbone()`` freezing ``self.model.features`` is ``PlantNet.freeze_backbone``)
    listed = module_functions(tree)
    functions = {key: name for key, (name, _) in listed.items()}
    found: dict[str, FreezingHelper] = {}
    # one freeze a function: a ResNet's stem convolution (``turn_off``: conv1, then layer1 ...) last,
    # as it holds no BatchNorm of its own
    for freeze in sorted(norms.freezes, key=lambda f: f.target.split(".")[-1] in PLAIN_STEM_PARTS):
        function = norms.frames.kinds.frame_of(freeze.node)
        if (freeze.how not in ("requires_grad", "requires_grad_") or not isinstance(function, ast.FunctionDef)
                or (name := functions.get(id(function))) is None):
            continue
        method = "." in name
        # each arm of ``if self.backbone == "vgg": ... elif self.backbone == "resnet50": ...`` is a freeze of its own
        arm = attribute_arm(freeze.node, function, norms.frames.kinds.class_of(function), norms.frames.parents) \
            if method else None
        key = f"{name}#{arm[2]}" if arm else name
        params = [a.arg for a in function.args.args]
        # each arm of ``if which == "ground_image": ... elif which == "remote_sensing": ...`` too
        branch = parameter_branch(freeze.node, function, norms.frames.parents)
        key += f"#{branch[0]}={branch[1]}" if branch else ""
        if key in found:
            continue
        root, dot, rest = freeze.target.partition(".")
        # what the function itself makes trainable again (another method's unfreeze is another call),
        # apart from what an arm of ``if regime == "full_finetune":`` does (read at each call)
        unfrozen, arms = _unfrozen_by_arm(norms, function)
        reopened = _reopening_arms(arms, freeze.target) if branch is None else None
        if root not in params or method and root != params[0] or undone(unfrozen, freeze.target) \
                or reopened is None and any(undone(targets, freeze.target) for targets in arms.values()):
            continue
        guard = freeze.guard if freeze.guard is not None else guard_of(freeze.node, function, norms.frames.parents)
        flag = guard_flag(function, guard, method) if guard is not None else None
        extent = extent_parameter(freeze.node, norms.frames.parents) if freeze.part else None
        found[key] = FreezingHelper(name, params.index(root), root, dot + rest, freeze.node.lineno, freeze.how, flag,
                                    part=freeze.part, extent=(params.index(extent), extent) if extent else None, arm=arm,
                                    sets_flag=freeze.sets_flag, returns_it=returned_parameter(function) == root,
                                    branch=(params.index(branch[0]) - listed[id(function)][1], *branch) if branch else None,
                                    reopened=(params.index(reopened[0]) - listed[id(function)][1], *reopened)
                                    if reopened else None)
    for loop, owner, listing in norms.named_by_parameter:  # def freeze_layers(net, names): getattr(net, name)
        function = norms.frames.kinds.frame_of(loop)
        root, dot, rest = owner.partition(".")
        params = [a.arg for a in function.args.args] if isinstance(function, ast.FunctionDef) else []
        name = functions.get(id(function))
        if name is not None and "." not in name and name not in found and root in params and listing in params:
            found[name] = FreezingHelper(name, params.index(root), root, dot + rest, loop.lineno, "requires_grad",
                                         names=(params.index(listing), listing))
    for target, nodes in norms.unfrozen_at.items():  # ``def unfreeze_all(self): ...requires_grad = True``
        function = norms.frames.kinds.frame_of(nodes[0])
        root, dot, rest = target.partition(".")
        if not isinstance(function, ast.FunctionDef) or (name := functions.get(id(function))) is None:
            continue
        arm = attribute_arm(nodes[0], function, norms.frames.kinds.class_of(function), norms.frames.parents) \
            if "." in name else None
        key = f"{name}#{arm[2]}" if arm else name
        params = [a.arg for a in function.args.args]
        guard = guard_of(nodes[0], function, norms.frames.parents)
        flag = guard_flag(function, guard, "." in name) if guard is not None else None
        # (``if num_layers is None:`` unfreeze all: only where the call leaves ``num_layers`` out)
        if key not in found and root in params and (root == params[0] or "." not in name):
            found[key] = FreezingHelper(name, params.index(root), root, dot + rest,
                                        getattr(nodes[0], "lineno", function.lineno), "unfreeze", flag, arm=arm)
    return list(found.values())


def _unfrozen_by_arm(norms: FileNorms, function: ast.FunctionDef) -> tuple[set[str], dict[tuple[str, str], set[str]]]:
    """What ``function`` makes trainable again outside any arm of ``if <parameter> ==
    "<value>":``, and in each such arm."""
    plain: set[str] = set()
    arms: dict[tuple[str, str], set[str]] = {}
    for target, nodes in norms.unfrozen_at.items():
        for node in nodes:
            if norms.frames.kinds.frame_of(node) is function:
                arm = parameter_branch(node, function, norms.frames.parents)
                (arms.setdefault(arm, set()) if arm else plain).add(target)
    return plain, arms


def _reopening_arms(arms: dict[tuple[str, str], set[str]], target: str) -> Optional[tuple[str, frozenset[str]]]:
    """The string parameter and its values whose arms make ``target`` trainable again
    (``if regime == "full_finetune": <unfreeze all>``), when some arm of it leaves it frozen
    (``elif regime == "last_block": <unfreeze layer4>``) and no other parameter's arm reopens it."""
    undoing = [arm for arm, targets in arms.items() if undone(targets, target)]
    parameters = {parameter for parameter, _ in undoing}
    if len(parameters) != 1 or not any(arm[0] in parameters and arm not in undoing for arm in arms):
        return None
    return parameters.pop(), frozenset(value for _, value in undoing)


def freezing_classes(norms: FileNorms) -> list[FreezingFactory]:
    """The file's module classes whose ``__init__`` freezes a part with BatchNorm
    (``self.backbone = resnet18(); for p in self.backbone.parameters(): ...``): building
    one, ``model = Cls(...)`` in a script importing it, freezes ``model.backbone``."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    found: list[FreezingFactory] = []
    kinds = norms.frames.kinds
    # one reading per class: a freeze that always happens before one a flag decides
    # (``requires_grad = train_cnn``, and ``forward`` running the part under no_grad)
    for freeze in sorted(norms.freezes, key=lambda f: f.guard is not None):
        init = kinds.frame_of(freeze.node)
        cls = kinds.class_of(freeze.node)
        if cls is not None and keeps_bn_in_eval(cls):
            continue  # its train() override puts the frozen part back in eval mode
        # a part forward runs under torch.no_grad() is frozen as surely as one whose parameters are;
        # requires_grad set in forward holds from the first batch on
        in_forward = isinstance(init, ast.FunctionDef) and cls is not None and init.name in forward_methods(cls)
        whole = freeze.target == "self"  # class Backbone(nn.Sequential): ... for p in self.parameters(): ...
        held = False  # resnet = resnet50(); (its freeze); self.resnet = Extractor(resnet)
        if isinstance(init, ast.FunctionDef) and init.name == "__init__" and not freeze.target.startswith("self"):
            # feature_blocks = efficientnet.features; (its freeze); self.extractor = nn.Sequential(efficientnet.features, ...)
            freeze = replace(freeze, target=attribute_alias(init, freeze.target))
            kept = kept_in_self(init, freeze.target)
            spliced = spliced_in_self(init, freeze.target) if kept is None else None
            if (kept or spliced) and norms.knowledge.has_batchnorm_there(freeze.target, freeze.node):
                freeze, held = replace(freeze, target=kept or (spliced[0] if spliced else ""), part=freeze.part if kept
                                       else f"the layers of `{freeze.target}` it holds"), True
            elif (cls is not None and not kept and not spliced and len(layers_taken(init, cls, freeze.target)) > 1
                  and norms.knowledge.has_batchnorm_there(freeze.target, freeze.node)):
                # ``self.define_module(model)``: ``self.Mixed_5b = model.Mixed_5b``, ... the instance holds them
                freeze, held, whole = replace(freeze, target="self", part=f"the layers of `{freeze.target}` it holds"), True, True
        if (freeze.how not in ("requires_grad", "requires_grad_") and not in_forward
                or isinstance(init, ast.FunctionDef) and config_guarded(freeze.node, init, norms.frames.parents)
                or not (freeze.target.startswith("self.") or whole and not in_forward)
                or cls is None or cls not in tree.body or not isinstance(init, ast.FunctionDef)
                or init.name != "__init__" and not in_forward
                or undone(_unfrozen_in(norms, cls), freeze.target)
                or any(f.function == cls.name and related("self" + f.rest, freeze.target) for f in found)):
            continue
        handed = None
        if not (held or norms.knowledge.class_has_batchnorm(cls) if whole
                else held or norms.knowledge.has_batchnorm(freeze.target, cls, freeze.node)):
            # ``self.net = model`` of ``__init__(self, model, ...)``: read at each call, with its argument
            argument = kept_from_parameter(cls, freeze.target[len("self."):]) if freeze.target.count(".") == 1 else None
            if argument is None and whole and isinstance(init, ast.FunctionDef):
                argument = layers_handed(init)  # self.Mixed_5b = inception.Mixed_5b, ...: the model handed in
            if argument is None or argument[2] or not isinstance(init, ast.FunctionDef) or init.name != "__init__":
                continue
            handed = (argument[0], argument[1])
        guard = freeze.guard if freeze.guard is not None else guard_of(freeze.node, init, norms.frames.parents)
        flag = guard_flag(init, guard) if guard is not None else None
        # the BatchNorm model is the one a string parameter's default names (``torch.hub.load(repo,
        # resnet_model)``): a call passing another name builds another model
        defaults = [(name, value) for scope, name, value in norms.knowledge.defaults_read if scope is init]
        choice = None
        if len(defaults) == 1:
            index, _ = parameter_default(init, defaults[0][0])
            choice = (index - 1, defaults[0][0], frozenset({defaults[0][1]}))
        elif isinstance(init, ast.FunctionDef) and (arms := _batchnorm_arms(norms, init, freeze.target)) is not None:
            index, _ = parameter_default(init, arms[0])  # if arch == "vgg16_bn": vgg = vgg16_bn() elif ...: vgg19()
            choice = (index - 1, arms[0], arms[1])
        # the call passes no self: its arguments sit one place earlier than __init__'s parameters
        partial = _stages_reopened(_unfrozen_in(norms, cls), freeze.target)
        # ``if freeze_at >= 0: self._freeze_parameters(self.conv1)`` with ``freeze_at=0``: ResNet(freeze_at=-1) freezes nothing
        compare = numeric_guard(freeze.node, init, norms.frames.parents) if flag is None else None
        found.append(FreezingFactory(cls.name, freeze.target[len("self"):], freeze.node.lineno, freeze.how,
                                     (flag[0] - 1, flag[1], flag[2]) if flag else None, puts_in_eval=calls_eval(cls),
                                     choice=choice, part=freeze.part, handed=handed, partial=partial,
                                     compare=(compare[0] - 1, *compare[1:]) if compare else None))
    return folded_factories(found)


def _batchnorm_arms(norms: FileNorms, init: ast.FunctionDef, target: str) -> Optional[tuple[str, frozenset[str]]]:
    """The string parameter and its values whose arms build the BatchNorm model ``target``
    is made of, when ``__init__`` binds that model in the arms of ``if arch == "vgg16_bn":
    vgg = vgg16_bn(...) elif arch == "vgg19": vgg = vgg19(...)`` and only some hold BatchNorm."""
    assert norms.knowledge is not None
    made = [node.value for node in ast.walk(init) if isinstance(node, ast.Assign)
            and any(dotted(t) == target for t in node.targets)]
    locals_used = {n.id for value in made for n in ast.walk(value) if isinstance(n, ast.Name)}
    for local in sorted(locals_used):
        binds = [node for node in ast.walk(init) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == local for t in node.targets)]
        arms = [parameter_branch(node, init, norms.frames.parents) for node in binds]
        if len(binds) < 2 or None in arms or len({arm[0] for arm in arms if arm}) != 1:
            continue
        with_bn = {arm[1] for node, arm in zip(binds, arms) if arm and norms.knowledge.value_has_batchnorm(node.value, "", node)}
        if with_bn and len(with_bn) < len(binds):
            return next(arm[0] for arm in arms if arm), frozenset(with_bn)
    return None


def _stages_reopened(unfrozen: set[str], target: str) -> bool:
    """Some of ``unfrozen`` are later stages of ``target`` made trainable again."""
    return any(holds(target, part) and part != target and trains_a_stage(part, target) for part in unfrozen)


def unfrozen_for(norms: FileNorms, function: Optional[ast.AST], root: str, freeze: Optional[ast.AST] = None) -> set[str]:
    """What is made trainable again that may touch ``root``: for a local of ``function``, only
    what ``function`` itself makes trainable (another factory's ``model.layer3`` is another
    model), and not in the other arm of an ``if`` the ``freeze`` is in (``if fine_tune: <unfreeze>
    elif not fine_tune: <freeze>``); otherwise all the file does."""
    if not isinstance(function, ast.FunctionDef):
        return norms.unfrozen
    declared = {name for node in ast.walk(function) if isinstance(node, (ast.Global, ast.Nonlocal)) for name in node.names}
    if root in declared or not any(isinstance(n, ast.Name) and n.id == root and isinstance(n.ctx, ast.Store)
                                   for n in ast.walk(function)):
        return norms.unfrozen
    frame_of = norms.frames.kinds.frame_of
    return {target for target, nodes in norms.unfrozen_at.items() if any(
        frame_of(node) is function and not (freeze is not None and norms.frames.exclusive(freeze, node)) for node in nodes)}


def _unfrozen_in(norms: FileNorms, cls: ast.ClassDef) -> set[str]:
    """What the class makes trainable again: ``self.model.features.norm5`` in a DenseNet
    wrapper says nothing of ``self.model`` in the ResNet wrapper beside it."""
    class_of = norms.frames.kinds.class_of
    # (a method the class never calls itself that unfreezes only under a parameter, ``def
    # unfreeze_layers(self, num_layers=None): if num_layers is None: ...``, unfreezes where a script
    # calls it, read there with the arm the call takes: building the class leaves the part frozen.
    # One that always unfreezes may be called by a trainer this reading does not follow: undone.)
    def at_construction(node: ast.AST) -> bool:
        method = public_method(node, norms)
        return method is None or guard_of(node, method, norms.frames.parents) is None

    return {target for target, nodes in norms.unfrozen_at.items()
            if not target.startswith("self.") or any(class_of(node) is cls and at_construction(node) for node in nodes)}


def _bound_before(function: ast.FunctionDef, name: str, line: int) -> Optional[ast.expr]:
    """What ``name`` was last assigned before ``line`` (the branch a freeze is in builds it
    there: ``if arch == "vgg16": m = vgg16() ... elif ...: m = resnet50()``)."""
    values = [node for node in ast.walk(function) if isinstance(node, ast.Assign) and node.lineno < line
              and bound_value(node, name) is not None]
    return bound_value(max(values, key=lambda node: node.lineno), name) if values else None


def frozen_instances(norms: FileNorms) -> list[FrozenInstance]:
    """The file's module-level models with BatchNorm frozen at module level (and not made
    trainable again there), with the functions of the file that unfreeze them."""
    assert norms.knowledge is not None
    kinds = norms.frames.kinds
    at_module = {target for target, nodes in norms.unfrozen_at.items() if any(kinds.frame_of(n) is None for n in nodes)}
    unfreezing = [(target, function.name) for target, nodes in norms.unfrozen_at.items() for node in nodes
                  if isinstance(function := kinds.frame_of(node), ast.FunctionDef)]
    found: list[FrozenInstance] = []
    for freeze in norms.freezes:
        root, dot, rest = freeze.target.partition(".")
        if (freeze.how in ("requires_grad", "requires_grad_") and kinds.frame_of(freeze.node) is None
                and _runs_on_import(freeze.node, norms.frames.parents)
                and not undone(at_module, freeze.target)
                and norms.knowledge.has_batchnorm(freeze.target, None, None)
                and all(i.name != root for i in found)):
            by = tuple(dict.fromkeys(name for target, name in unfreezing if undone({target}, freeze.target)))
            evals = any(not mode.train and related(mode.target, root) for mode in norms.modes)
            found.append(FrozenInstance(root, dot + rest, freeze.node.lineno, by, puts_in_eval=evals))
    return found


def _runs_on_import(node: ast.AST, parents: dict) -> bool:
    """A module-level statement runs when a script imports the module: not under ``if
    __name__ == "__main__":`` (nor under ``if __name__ != "model.model":``, which a script
    importing ``model.model`` skips); ``__name__ != "__main__"`` and the ``else`` of ``==
    "__main__"`` do run."""
    child = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.If) and any(isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(parent.test)):
            test = parent.test
            runs = (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.comparators[0], ast.Constant)
                    and test.comparators[0].value == "__main__"
                    and (isinstance(test.ops[0], ast.NotEq) and child in parent.body
                         or isinstance(test.ops[0], ast.Eq) and child in parent.orelse))
            if not runs:
                return False
        child = parent
    return True


def eval_keeping_classes(tree: ast.Module) -> list[str]:
    """The module's classes whose ``train()`` override puts (part of) them back in eval
    mode, and the classes that keep one of those (``self.encoder = Encoder()``)."""
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    found = [cls.name for cls in classes if keeps_bn_in_eval(cls)]
    for _ in range(3):
        more = [cls.name for cls in classes if cls.name not in found and any(
            isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and dotted(node.value.func) in found
            for node in ast.walk(cls))]
        if not more:
            break
        found += more
    return found
