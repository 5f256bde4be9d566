"""Which module a GL406 freeze leaves frozen, and whether two freezes are one finding:
the names a class's ``self.backbone`` freeze has in the file, the parts trained again
(a head or a late stage keeps the stem frozen), the optimiser and BatchNorm checks."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from gradlint.source.frames import Training
from gradlint.source.function_values import own_nodes
from gradlint.source.freeze_forms import calls_eval, holds, in_one_loop, leaves_rest_frozen, related, unwrapped
from gradlint.source.frozen_norms import Elsewhere, FileNorms, Freeze, ModeCall
from gradlint.source.head_norms import norms_only_in_heads
from gradlint.source.mode_restores import returns_name
from gradlint.source.reaching_bindings import reaching_choices
from gradlint.source.class_attribute_values import self_attribute_values
from gradlint.source.names import dotted
from gradlint.source.children_views import children_view_of
from gradlint.source.norm_offers import unfrozen_for
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.unit import SourceUnit

from .frozen_phases import frozen_phase_end, rebuilt_for_fine_tuning, two_phase_calls, warm_up_run
from .class_parts import built_in_class, module_attributes, norms_only_optimised, only_part
from .rebuilt_models import rebuilt_on_the_way


def own_class(norms: FileNorms, freeze: Freeze, target: str) -> Optional[str]:
    """The file's class that freezes ``self.backbone`` in ``__init__`` and never puts
    anything in eval mode: ``model = Cls()`` builds ``model.backbone`` frozen, in train mode."""
    cls = norms.frames.kinds.class_of(freeze.node)
    if not freeze.target.startswith("self.") or target == freeze.target or cls is None or calls_eval(cls):
        return None
    return cls.name


def same_model(factory: frozenset[str], other: frozenset[str]) -> bool:
    """Two freezes of one name freeze the same model unless two factories built it (a
    factory passing on another's frozen model is the same one: ``FasterRCNN()`` holding
    the frozen ``BackboneNetwork()`` of its ``__init__``)."""
    return not factory or not other or bool(factory & other)


def factories_of(freeze: Freeze) -> frozenset[str]:
    """The factories a freeze comes through, outermost first: none for a freeze in the file."""
    if not (freeze.how.startswith("factory") and freeze.via):
        return frozenset()
    chain: list[str] = []
    via: Optional[Elsewhere] = freeze.via
    while via is not None:
        chain.append(via.function)
        via = via.inner
    return frozenset(chain)


def frozen_targets(norms: FileNorms, freeze: Freeze) -> list[str]:
    """The frozen module's names: ``self.backbone`` in a class is ``model.backbone`` for
    each ``model = Cls(...)`` of the file (and stays ``self.backbone`` for ``self.train()``)."""
    cls = norms.frames.kinds.class_of(freeze.node)
    if freeze.how == "optimizer" and freeze.target == "self" and cls is not None and (freeze.except_ or "").startswith("self."):
        # a LightningModule's configure_optimizers taking only ``self.head``: its other parts stay as built
        kept = freeze.except_[len("self."):].split(".")[0] if freeze.except_ else ""
        values = self_attribute_values(cls)
        # (``self.feature_map = nn.Sequential(*list(self.model.children())[:-2])`` shares the optimised layers)
        used = _read_in_training(cls)
        return [f"self.{name}" for name in sorted(module_attributes(cls)) if name != kept and name in used
                and not any(dotted(node) == f"self.{kept}" for value in values.get(name, []) for node in ast.walk(value))
                and norms.knowledge is not None and norms.knowledge.has_batchnorm(f"self.{name}", cls, freeze.node)]
    if not freeze.target.startswith("self.") and not _whole_class(norms, freeze):
        return [freeze.target]
    if cls is None or norms.knowledge is None:
        return []
    rest = freeze.target[len("self"):]
    return [name + rest for name in norms.knowledge.instances_of(cls)] + [freeze.target]


_TRAINING_METHODS = ("training_step", "forward")


def _read_in_training(cls: ast.ClassDef) -> set[str]:
    """The attributes (``fe`` of ``self.fe``) that ``training_step`` or ``forward`` read,
    also through the class's methods they call (``self.general_step(batch)``): a part used
    only in ``validation_step`` runs in eval mode."""
    methods = {item.name: item for item in cls.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}
    todo, seen, read = [name for name in _TRAINING_METHODS if name in methods], set(), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(methods[name]):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                read.add(node.attr)
                if node.attr in methods:
                    todo.append(node.attr)
    return read


def _whole_class(norms: FileNorms, freeze: Freeze) -> bool:
    """A class freezing all of itself as it is built (``self.freeze()`` in ``__init__``,
    freezing ``self.named_parameters()`` but the head): its instances are frozen."""
    frame = norms.frames.kinds.frame_of(freeze.node)
    return freeze.target == "self" and isinstance(frame, ast.FunctionDef) and frame.name == "__init__"


def stays_frozen(norms: FileNorms, freeze: Freeze, target: str) -> bool:
    assert norms.knowledge is not None
    # an instance's part (``model.backbone``) is also unfrozen as ``self.backbone`` in its class
    forms = {target, freeze.target} | ({freeze.held[0]} if freeze.held else set())  # (also by the name it was frozen as)
    # (made trainable again only in another arm of the ``if`` the freeze is in: ``if method == "last_layer":
    # <freeze> elif method == "partial": <unfreeze some>`` leaves the first arm frozen)
    # (``if split_name in ["0", "1"]: <freeze> else: <unfreeze>``: the loop that freezes those blocks makes the rest
    # trainable, which is not an unfreeze of what it freezes)
    undone = [u for u in norms.unfrozen if any(holds(u, form) for form in forms) and not _elsewhere_only(norms, freeze, u)
              and not (freeze.part and (nodes := norms.unfrozen_at.get(u, []))
                       and all(node is freeze.node for node in nodes))
              and not _reopened_in_other_factories(norms, freeze, u)]
    if warm_up_run(norms, target) or rebuilt_for_fine_tuning(norms, freeze) or two_phase_calls(norms, freeze):
        return False  # a head-only run whose checkpoint a second, fully trainable model fine-tunes
    # (``requires_grad = True`` does not train what no optimiser takes: read for the other freezes)
    by_omission = freeze.how in ("optimizer", "unoptimised")
    if undone and not by_omission and frozen_phase_end(norms, freeze, undone) is None:
        return False  # trainable again, all of it (and not only after a frozen warm-up it trains in)
    if not by_omission and any(not leaves_rest_frozen(u, form) for form in forms
                                         for u in unfrozen_parts(norms, form, freeze)):
        return False  # some other part is trainable again: what stays frozen is unknown
    heads = {unwrapped(u)[len(unwrapped(target)) + 1:].split(".")[0] for u in unfrozen_parts(norms, target, freeze)}
    if heads and norms_only_in_heads(norms.knowledge, target, freeze.node, heads):
        return False  # the BatchNorm is the trainable head's own (MAE's linear probe)
    if freeze.how == "no_grad" and any(related(o, view) for o in norms.optimised for view in _viewed(norms, freeze)):
        return False  # a Sequential of an optimised model's own children: its parameters train through that model
    if freeze.how == "no_grad" and (_handed_to_training(norms, freeze) or _trained_there(norms, freeze)):
        return False  # a training function's model, run without gradients for a feature pass between steps
    # (a class's ``self.encoder`` is optimised as ``xmodel.encoder`` of its instance)
    instance_forms = _instance_forms(norms, freeze) if freeze.target.startswith("self.") else set()
    if freeze.how == "no_grad" and ("*" in norms.optimised or not norms.optimised
                                    or any(related(o, form) for o in norms.optimised for form in forms | instance_forms)) \
            and not _only_run_without_grad(norms, freeze):
        return False
    handed = norms.knowledge.handed_bn.get(target)
    if freeze.how == "optimizer" and handed and freeze.except_ \
            and all(related(freeze.except_, f"{target}.{part}") for part in handed):
        return False  # the BatchNorm it holds is in the part that is optimised (``net.encoder``)
    if freeze.how == "optimizer" and (norms.moving or "*" in norms.optimised
                                      or any(related(o, target) for o in _optimised_with(norms, freeze)
                                             if o != freeze.except_ and o not in freeze.parts_optimised)
                                      or only_part(norms, target, freeze.except_)
                                      or norms_only_optimised(norms, freeze, target)):
        return False
    cls = norms.frames.kinds.class_of(freeze.node)
    if target != "self" and _whole_class(norms, freeze):
        return cls is not None and norms.knowledge.class_has_batchnorm(cls)  # an instance of the class
    built = _built_and_frozen(norms, freeze, target)
    if built:  # a method built it and froze it: read the arms it may bind (an arm that crashes never trains)
        return any(norms.knowledge.has_batchnorm_there(inner.target, inner.node) for inner in built)
    if target.startswith("self.") and holds(freeze.target, target):
        return norms.knowledge.has_batchnorm(target, cls, freeze.node)
    if target.startswith("self.") and freeze.target.startswith("self."):  # kept by another class: self.model.resnet
        return norms.knowledge.has_batchnorm(freeze.target, cls, freeze.node)
    if target.startswith("self."):
        return norms.knowledge.has_batchnorm(target, cls, freeze.node)
    if freeze.target.startswith("self.") and norms.knowledge.has_batchnorm(freeze.target, cls, freeze.node):
        return True  # what the class's own attribute holds (its instance may be bound in a function)
    if freeze.target.startswith("self.") and cls is not None and built_in_class(cls, freeze.target.split(".")[1]):
        # ``self.clip_model = clip.load(name)``, read in the class: no BatchNorm (a module-level ``model`` bound to
        # what another function returns is not this instance)
        return False
    # a name mapped from self.x (model.backbone) is a module-level instance; else read where it is frozen
    at = None if freeze.target.startswith("self.") else freeze.node
    return norms.knowledge.has_batchnorm(target, None, at) if at is None else norms.knowledge.has_batchnorm_there(target, at)


def _instance_forms(norms: FileNorms, freeze: Freeze) -> set[str]:
    """The names a class's frozen ``self.<part>`` has outside it: ``xmodel.ventral.features``
    for ``self.features`` of a class a second class keeps as ``self.ventral``, ``xmodel``
    being an instance of that second class."""
    assert norms.knowledge is not None
    forms = set(frozen_targets(norms, freeze))
    for form in [f for f in forms if f.startswith("self.") and f != freeze.target]:
        attribute, _, rest = form[len("self."):].partition(".")
        for cls in norms.frames.kinds.classes.values():
            if any(dotted(t) == f"self.{attribute}" for node in ast.walk(cls) if isinstance(node, ast.Assign)
                   for t in node.targets):
                forms |= {f"{name}.{attribute}" + (f".{rest}" if rest else "") for name in norms.knowledge.instances_of(cls)}
    return forms


def _optimised_with(norms: FileNorms, freeze: Freeze) -> set[str]:
    """The owners optimised where the optimiser ``freeze`` is: not those of an optimiser in
    another arm of the same choice (``if MODEL == 'densenet161': SGD(model.classifier...)``
    ``else: SGD(model.fc...)``), which never runs with it."""
    return {o for o in norms.optimised
            if not (sites := norms.optimised_at.get(o)) or not all(norms.frames.exclusive(freeze.node, at) for at in sites)}


def _built_and_frozen(norms: FileNorms, freeze: Freeze, target: str) -> list[Freeze]:
    """The freezes of the class's attribute ``target`` in methods that build it first
    (``create_model``: ``if arch == ...: self._model = models.resnet50() ...`` then ``for p in
    self._model.parameters(): p.requires_grad = False``), read for the freezes of that
    attribute elsewhere in the class too (the optimiser of ``train_model``, the call
    ``self.create_model(arch)`` freezing through it)."""
    via = freeze.via
    if via is not None:
        if via.path is not None or via.inner is not None or "." not in via.function:
            return []
        inner = next((f for f in norms.freezes if f.via is None and f.node.lineno == via.line
                      and f.target.startswith("self.")), None)
        if inner is None:
            return []
        target, freeze = inner.target, inner
    cls = norms.frames.kinds.class_of(freeze.node)
    if not target.startswith("self.") or cls is None:
        return []
    return [f for f in norms.freezes if f.via is None and f.target == target and f.how.startswith("requires_grad")
            and norms.frames.kinds.class_of(f.node) is cls and reaching_choices(norms.frames, target, f.node)]


def _viewed(norms: FileNorms, freeze: Freeze) -> list[str]:
    """The models whose children the frozen name holds (``self.feature_map =
    nn.Sequential(*list(self.model.children())[:-2])``), or that it names
    (``g_eval = generator.module if world_size > 1 else generator``)."""
    assert norms.knowledge is not None
    name = freeze.target
    cls = norms.frames.kinds.class_of(freeze.node)
    if name.startswith("self.") and name.count(".") == 1 and cls is not None:
        values = self_attribute_values(cls).get(name[len("self."):], [])
    else:
        values = norms.knowledge.bindings.get(name, [])
    views = [view for value in values if (view := children_view_of(unwrap(value))) is not None]
    for value in values:
        value = unwrap(value)
        for arm in (value.body, value.orelse) if isinstance(value, ast.IfExp) else (value,):
            if isinstance(arm, ast.Attribute) and arm.attr == "module":
                arm = arm.value  # (the model a data-parallel wrapper holds)
            if isinstance(arm, ast.Name) and arm.id != name:
                views.append(arm.id)
    return views


def _handed_to_training(norms: FileNorms, freeze: Freeze) -> bool:
    """The module run under ``torch.no_grad()`` is a parameter of its function (``net``) that
    the same function hands to a function of the file that trains (backward or step): the
    caller's optimiser holds it (a SimCLR loop's clustering pass between its training steps)."""
    frame = norms.frames.kinds.frame_of(freeze.node)
    root = freeze.target.split(".")[0]
    if not isinstance(frame, (ast.FunctionDef, ast.AsyncFunctionDef)) or root not in {a.arg for a in frame.args.args}:
        return False
    training = {node.name for node in _training_frames(norms) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return any(isinstance(node, ast.Call) and dotted(node.func) in training
               and any(dotted(arg) == root for arg in [*node.args, *(k.value for k in node.keywords)])
               for node in ast.walk(frame))


def _trained_there(norms: FileNorms, freeze: Freeze) -> bool:
    """The function running the module under ``torch.no_grad()`` (a test pass at the end of
    each epoch) also runs it with gradients and trains (backward, step): its optimiser is
    built elsewhere (``model, loss_func, optimizer = create_model()``)."""
    frame = norms.frames.kinds.frame_of(freeze.node)
    if frame is None or not any(node is frame for node in _training_frames(norms)):
        return False
    under = {id(f.node) for f in norms.freezes if f.how == "no_grad" and f.target == freeze.target}
    return any(isinstance(node, ast.Call) and dotted(node.func) == freeze.target and id(node) not in under
               for node in own_nodes(frame))


def _training_frames(norms: FileNorms) -> list[ast.AST]:
    """The functions (and module) of the file that train: a backward or a step in them."""
    return [f.node for f in norms.frames.frames if any(isinstance(fact, Training) for fact in f.facts)]


def _only_run_without_grad(norms: FileNorms, freeze: Freeze) -> bool:
    """Every call of the frozen module in its class (``self.teacher(x)``) is under
    ``torch.no_grad()``: in the optimiser or not, it never gets a gradient."""
    cls = norms.frames.kinds.class_of(freeze.node)
    if cls is None or not freeze.target.startswith("self."):
        return False
    calls = [node for node in ast.walk(cls) if isinstance(node, ast.Call) and dotted(node.func) == freeze.target]
    under = {id(f.node) for f in norms.freezes if f.how == "no_grad" and f.target == freeze.target}
    # (``self.model(x)`` with gradients runs its part ``self.model.features_extractor`` too: iCaRL's
    # exemplar pass is the part's only own call under no_grad)
    holders = {".".join(freeze.target.split(".")[:cut]) for cut in range(2, freeze.target.count(".") + 1)}
    held = {id(f.node) for f in norms.freezes if f.how == "no_grad" and f.target in holders}
    if any(isinstance(node, ast.Call) and dotted(node.func) in holders and id(node) not in held for node in ast.walk(cls)):
        return False
    return bool(calls) and all(id(call) in under for call in calls)


def unfrozen_parts(norms: FileNorms, target: str, freeze: Optional[Freeze] = None) -> list[str]:
    """Parts of ``target`` made trainable again (``model.layer4[2]``, ``model.fc``); with
    ``freeze``, not those made trainable only in another arm of the ``if`` it is in."""
    return sorted(u for u in norms.unfrozen if related(u, target) and not holds(u, target)
                  and not (freeze is not None and (_elsewhere_only(norms, freeze, u) or _another_functions_local(norms, freeze, u))))


def _reopened_in_other_factories(norms: FileNorms, freeze: Freeze, unfrozen: str) -> bool:
    """``unfrozen`` is made trainable again only in other functions, each on a local model of
    its own (``def create_feature_extractor(): model = create_resnetmodel(); model.requires_grad_(True);
    return model``), where that cannot touch the model ``freeze`` freezes: the file also calls the
    function that freezes (``model = create_resnetmodel()``, then trains it) outside them, or
    the freeze is at the script's top level after every call of them."""
    frame_of = norms.frames.kinds.frame_of
    factory, nodes, root = frame_of(freeze.node), norms.unfrozen_at.get(unfrozen), unfrozen.split(".")[0]
    tree = norms.frames.unit.tree
    assert norms.knowledge is not None and tree is not None
    scoped, functions = norms.knowledge.scoped, (ast.FunctionDef, ast.AsyncFunctionDef)

    def local(function: Optional[ast.AST]) -> bool:  # bound in the function, or its parameter
        return isinstance(function, functions) and (root in scoped.get(function, {})
                                                    or root in {a.arg for a in function.args.args})

    others = {frame_of(node) for node in nodes or []}
    if not nodes or any(other is factory or not local(other) for other in others):
        return False
    names = {getattr(other, "name", None) for other in others}
    calls = [(call, call.func.id) for call in ast.walk(tree) if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)]
    if factory is None:  # (each call of them runs before the top-level freeze: it freezes what they reopened)
        reopening = [call for call, called in calls if called in names]
        return bool(reopening) and all(frame_of(call) is None and call.lineno < freeze.node.lineno
                                       and not in_one_loop(norms.frames.parents, freeze.node, call) for call in reopening)
    return local(factory) and any(called == getattr(factory, "name", None) and frame_of(call) not in others
                                  for call, called in calls)


def _another_functions_local(norms: FileNorms, freeze: Freeze, unfrozen: str) -> bool:
    """``unfrozen`` is a part of a local of other functions only (``model.classifier`` of
    another factory of the file), not of the function-local model ``freeze`` freezes."""
    return unfrozen not in unfrozen_for(norms, norms.frames.kinds.frame_of(freeze.node), unfrozen.split(".")[0])


def _elsewhere_only(norms: FileNorms, freeze: Freeze, unfrozen: str) -> bool:
    """``unfrozen`` is made trainable again only in other arms of the ``if`` ``freeze`` is in
    (``if strategy == "frozen": <freeze> elif strategy == "partial": <freeze, reopen block5>``)."""
    nodes = norms.unfrozen_at.get(unfrozen)
    if not nodes:
        return False
    # (arms of an ``if`` in the epoch loop both run, one epoch after another: ``if epoch < 5: <freeze>
    # else: <unfreeze>`` is a warm-up); an unfreeze after the name is bound to a new model (a
    # notebook's next experiment, ``model = HybridModel(...)``) is that model's
    # that model's; and one before the freeze, both at a script's top level (which runs once) and not in one
    # loop, is undone by it (a notebook's full fine-tuning cell, then another head-only run)
    frame_of = norms.frames.kinds.frame_of
    return all(norms.frames.exclusive(freeze.node, node) and not in_one_loop(norms.frames.parents, freeze.node, node)
               or rebuilt_on_the_way(norms, unfrozen, freeze.node, node)
               or getattr(node, "lineno", 0) < freeze.node.lineno and frame_of(node) is None is frame_of(freeze.node)
               and not in_one_loop(norms.frames.parents, freeze.node, node) for node in nodes)


def another_model_there(norms: FileNorms, freeze: Freeze, train: ModeCall) -> bool:
    """A class freezing ``self.enc`` (read as ``model.enc`` for each ``model = FrozenNet(...)``)
    and a ``model.train()`` in a function that binds ``model`` only to something else
    (``model = FullNet(enc)``): that call trains another model."""
    cls = norms.frames.kinds.class_of(freeze.node)
    frame = train.site and norms.frames.kinds.frame_of(train.site) or train.frame
    if cls is None or not freeze.target.startswith("self.") or not isinstance(frame, ast.FunctionDef):
        return False
    root = train.target.split(".")[0]
    assert norms.knowledge is not None
    values = [unwrap(node.value) for node in ast.walk(frame) if isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == root for t in node.targets)]
    return bool(values) and not any(isinstance(v, ast.Call) and cls.name in norms.knowledge.classes_called(v.func)
                                    for v in values)



def method_owner(norms: FileNorms, freeze: Freeze) -> tuple[Optional[str], frozenset[str]]:
    """The class whose method froze the instance (``model.freeze_layers()`` of ``DenseNet``),
    with its methods, when none of them switches a mode: ``model = DenseNet()`` is then in
    train mode since it was built, whatever it is frozen by; else (None, no methods)."""
    via = freeze.via
    if via is None or freeze.how not in ("requires_grad", "requires_grad_") or via.function.count(".") != 1:
        return None, frozenset()
    name = via.function.split(".")[0]
    if via.path is None:
        tree = norms.frames.unit.tree
    else:  # the module the method is in, parsed once for every rule that reads it
        module = SourceUnit.read_parsed(str(Path(norms.frames.unit.path).parent / via.path))
        tree = module.tree if module is not None else None
    if tree is None:
        return None, frozenset()
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    if cls is None or any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("eval", "train")
                          for n in ast.walk(cls)):
        return None, frozenset()
    return name, frozenset(n.name for n in cls.body if isinstance(n, ast.FunctionDef))


def local_elsewhere(norms: FileNorms, target: str, node: ast.AST, other: ast.AST) -> bool:
    """``target``'s root is a local of the function holding ``node`` and of the other
    function holding ``other``: two ``model`` locals are two models."""
    frame_of = norms.frames.kinds.frame_of
    frame, there = frame_of(node), frame_of(other)
    root = target.split(".")[0]
    assert norms.knowledge is not None
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    # (a function's own ``model``, never returned, is not the module's ``model`` either)
    frames = [f for f in (frame, there) if f is not None]
    return (there is not frame and all(isinstance(f, functions) for f in frames) and bool(frames)
            and all(root in norms.knowledge.scoped.get(f, {}) and not returns_name(f, root) for f in frames))
