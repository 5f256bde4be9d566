"""GL406 facts that cross a function or a file: a model frozen inside the function that
builds it, and a model put in train mode inside the function that trains it.

- A *freezing factory* is a module-level function that freezes (part of) a local model
  with BatchNorm and returns it (``def get_model(): m = resnet50(); for p in
  m.parameters(): p.requires_grad = False; ...; return m``). ``model = get_model()`` in
  the file, or in a script importing it from a project module, is a freeze of ``model``.
- A *training function* is a module-level function of a project module that trains
  (backward/step) and calls ``net.train()`` on one of its parameters with no ``net.eval()``
  after it before the next training statement. ``fit(model, ...)`` in a script importing it
  is a train call of ``model`` whose put-back was already decided in ``fit``'s file.

Same-file training helpers are :meth:`frozen_norms._Collector._through_helpers`. What an
imported module offers is read by :mod:`module_offers` (from disk, never imported, once per
file and change); module-level models and freezing helpers it offers are linked by
:mod:`imported_freezes`, and a frozen module handed to a model that keeps it by
:mod:`held_parts`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
import weakref
from pathlib import Path
from typing import Optional

from gradlint.source.table_calls import table_callees
from gradlint.source.default_flags import asks_unfrozen, factory_flag
from gradlint.source.numeric_guards import numeric_guard_holds
from gradlint.source.chosen_names import chosen_string
from gradlint.source.frozen_norms import Elsewhere, FileNorms, Freeze, ModeCall, own_norms
from gradlint.source.held_parts import link_holders, mark_handed_batchnorm
from gradlint.source.imported_freezes import link_freezing_helpers, link_instances
from gradlint.source.imported_models import mark_imported_models, mark_imported_momentum
from gradlint.source.index import file_stamp, read_text
from gradlint.source.dead_branches import never_taken
from gradlint.source.unoptimised_runs import unoptimised_runs
from gradlint.source.module_runners import never_asked_to_train
from gradlint.source.no_grad_runners import link_no_grad_runs
from gradlint.source.optimiser_helpers import link_optimiser_helpers
from gradlint.source.module_offers import FREEZING, TRAINING_WORDS, module_offers, shown_path
from gradlint.source.mode_restores import hook_never_evals
from gradlint.source.names import dotted
from gradlint.source.factory_facts import Choice, FreezingFactory, Known, Origin
from gradlint.source.imported_facts import imported_facts
from gradlint.source.norm_chains import chain
from gradlint.source.call_arguments import argument
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.norm_offers import freezing_classes, freezing_factories
from gradlint.source.training_offers import training_classes, training_functions
from gradlint.source.project_constants import remember_script
from gradlint.source.project_functions import project_imports
from gradlint.source.signatures import refuses_keywords
from gradlint.source.unit import SourceUnit, call_spelling
from gradlint.source.unread_trainers import CALLS_TRAINER


_CACHE: "weakref.WeakKeyDictionary[ast.Module, FileNorms]" = weakref.WeakKeyDictionary()


def file_norms(unit: SourceUnit) -> FileNorms:
    """GL406's facts of one file, its factories and imported training functions followed."""
    assert unit.tree is not None
    found = _CACHE.get(unit.tree)
    if found is None:
        remember_script(unit.tree, Path(unit.path))
        found = _CACHE[unit.tree] = own_norms(unit)
        link(found)
    return found




_PARAMETERS_CALL = re.compile(r"parameters\(\s*\)")  # (``model.parameters(\n)``, split by a formatter)
_PART_PARAMETERS = re.compile(r"\w\.\w+\.parameters\(\s*\)")  # ``model.classifier.parameters()``


def worth_reading(unit: SourceUnit) -> bool:
    """A cheap look (the text, the imported functions it calls) at whether the file can
    freeze a model and put it in train mode; reading its frames costs far more."""
    text = call_spelling(unit.text)
    # (``nn.Parameter(x, requires_grad=False)`` and ``self.head.train(self.training)`` in a model
    # library freeze and train nothing: most files of a library stop here)
    freezes = bool(FREEZING.search(text)) or ("optim" in text and bool(_PARAMETERS_CALL.search(text)))
    # a model never put in eval is in train mode too; Lightning's trainer.fit(model) sets it each epoch
    trains = any(word in text for word in (*TRAINING_WORDS, ".fit(", "training_step")) or bool(CALLS_TRAINER.search(text))
    if freezes and trains:
        return True
    factories, trainers = imported_facts(unit)
    if (freezes or bool(factories)) and (trains or bool(trainers)):
        return True
    tree = unit.tree
    if tree is None or not Path(unit.path).is_file():
        return False
    imports = project_imports(tree, Path(unit.path))
    if (freezes or factories) and any(  # Trainer(model, ...).train(): a class of another file trains it
            f"{runner}(" in text for module, _ in imports.values()
            for runner in module_offers(str(module), file_stamp(module)).runners):
        return True
    if (trains or trainers) and any(  # freeze_layers(model, arch) of another module, then train_network(model, ...)
            f"{helper.function.rpartition('.')[2]}(" in text for module, _ in imports.values()
            for helper in module_offers(str(module), file_stamp(module)).helpers if helper.how != "unfreeze"):
        return True
    if (freezes or factories) and any(  # perform_training(model, dto) of a module that steps an optimiser
            name not in ("*", ".") and f"{local}(" in text and _trains_there(module)
            for local, (module, name) in imports.items()):
        return True
    if trainers and any(  # fit_one_epoch(student, teacher, ...) of a module that runs the teacher without gradients
            name not in ("*", ".") and f"{local}(" in text and "no_grad" in read_text(module)
            for local, (module, name) in imports.items()):
        return True
    if freezes and any(  # class ResNetClassifier(BaseClassifier): the imported base is a LightningModule that trains
            "training_step" in (there := read_text(module)) and "LightningModule" in there for module, _ in imports.values()):
        return True
    if (trains or trainers) and any(  # optimizer = get_optimizer(model, cfg), over model.classifier only there
            name not in ("*", ".") and f"{local}(" in text and "optim" in (there := read_text(module))
            and _PART_PARAMETERS.search(there) for local, (module, name) in imports.items()):
        return True
    return trains and any(module_offers(str(module), file_stamp(module)).instances for module, _ in imports.values()
                          if "requires_grad" in read_text(module))


def _trains_there(module: Path) -> bool:
    """The module steps an optimiser, or a project module it imports does (``Experiment``
    handing the model to ``SourceTrainer``)."""
    text = read_text(module)
    if any(word in text for word in TRAINING_WORDS):
        return True
    unit = SourceUnit.read_parsed(str(module)) if "import" in text else None
    return unit is not None and unit.tree is not None and any(
        any(word in read_text(inner) for word in TRAINING_WORDS) for inner, _ in project_imports(unit.tree, module).values())


def link(norms: FileNorms) -> None:
    """Add the freezes and train calls of ``norms``' file that go through factories (its own
    or imported) and imported training functions, and through its own functions that pass
    either on."""
    unit = norms.frames.unit
    tree = unit.tree
    assert tree is not None and norms.knowledge is not None
    imported_factories, imported_trainers = imported_facts(unit)
    own_factories = freezing_factories(norms)
    factories = {**imported_factories, **{f.function: (f, unit.path) for f in own_factories}}
    trainers = {**imported_trainers, **{t.function: (t, unit.path) for t in training_classes(norms)}}
    if Path(unit.path).is_file():
        mark_imported_models(norms, Path(unit.path))
        mark_imported_momentum(norms, Path(unit.path))
        link_instances(norms, Path(unit.path))
        link_freezing_helpers(norms, Path(unit.path))
        link_no_grad_runs(norms, Path(unit.path))
        link_optimiser_helpers(norms, Path(unit.path))
    # (the file's own freezing classes: a method returning an instance, ``self.model = self.build()``)
    known_classes = {f.function: (f, unit.path) for f in freezing_classes(norms) if f.function not in factories}
    if not factories and not trainers and not known_classes:
        _finish(norms)
        return
    own_trainers = {t.function: (t, unit.path) for t in training_functions(norms)}
    chained_factories, chained_trainers = chain(tree, unit.path, {**known_classes, **factories}, {**own_trainers, **trainers})
    factories.update((f.function, (f, unit.path)) for f in chained_factories)
    trainers.update((t.function, (t, unit.path)) for t in chained_trainers)
    frames = norms.frames
    script = Path(unit.path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, (ast.Call, ast.Tuple)):
            # (``net, size = myInception(), (299, 299)``: each name bound to its own value)
            pairs = list(zip(node.targets[0].elts, node.value.elts)) if isinstance(node.value, ast.Tuple) \
                and isinstance(node.targets[0], ast.Tuple) and len(node.targets[0].elts) == len(node.value.elts) \
                else [(node.targets[0], node.value)] if isinstance(node.value, ast.Call) else []
            for bound, given in pairs:
                _link_build(norms, bound, given, factories, script)
        elif isinstance(node, ast.Call) and ((callee := dotted(node.func)) in trainers
                                             or (callee := _method_of_instance(node, norms)) in trainers
                                             or (callee := dotted(node.func)) in own_trainers):
            assert callee is not None
            # (a model named at a call of the file's own training function is read by frozen_norms)
            own = callee not in trainers
            known, module = trainers[callee] if not own else own_trainers[callee]
            for trainer in known.each():
                if trainer.hook is not None and not _none(hook := argument(node, *trainer.hook)) \
                        and not hook_never_evals(norms, hook, module):
                    continue  # fit(net, ..., before_epoch=keep_frozen): the callback may put it back in eval
                if trainer.entries and never_asked_to_train(node, trainer.entries, frames):
                    continue  # trainer = Trainer(model, ...); trainer.log_metrics(...): nothing trains
                passed = argument(node, trainer.index, trainer.parameter)
                model = dotted(passed) if passed is not None and not own else None
                built = unwrap(passed) if passed is not None else None
                if (model is None and isinstance(built, ast.Call) and (made := dotted(built.func)) in factories
                        and factories[made][0].position is None):  # train(FeatureHeadNet()): built in the call
                    model = f"{made}()"
                    if not _built_frozen(norms, built, made, model, factories[made], script):
                        model = None
                    else:  # what it holds is read from the call, as for ``model = FeatureHeadNet()``
                        norms.knowledge.scoped.setdefault(None, {}).setdefault(model, []).append(built)
                if model:
                    scope = frames.kinds.frame_of(node) or tree
                    norms.modes.append(ModeCall(model + trainer.rest, True, node, frames._statement_of(node), scope,
                                                (trainer.written or trainer.parameter) + trainer.rest,
                                                via=_elsewhere(trainer.function, trainer.line, module, trainer.origin,
                                                               script)))
    _finish(norms)


def _link_build(norms: FileNorms, bound: ast.expr, given: ast.expr, factories: Known, script: Path) -> None:
    """The freeze ``bound = given`` makes where ``given`` calls a freezing factory (the file's
    own or an imported one, a table's pick, a method of an instance)."""
    frames = norms.frames
    tree = frames.unit.tree
    assert tree is not None
    value = unwrap(given)
    if not isinstance(value, ast.Call):
        return
    callee = dotted(value.func)
    if callee is None or callee not in factories and isinstance(value.func, ast.Name):
        # model_map[args.model](...), or ModelClass() bound by an if chain: the classes it may pick
        picked = [name for name in table_callees(value, frames.parents, frames.kinds.frame_of(value), tree)
                  if name in factories]
        callee = picked[0] if picked else None
    if callee not in factories:
        callee = _method_of_instance(value, norms)
    if (callee is None or callee not in factories) and (name := dotted(bound)):
        _in_sequential(norms, value, name, factories, script)  # nn.Sequential(FrozenEncoder(), Decoder())
    if callee is None or callee not in factories:
        return
    target = _target(bound, factories[callee][0].position)
    if target:
        _built_frozen(norms, value, callee, target, factories[callee], script)


def _method_of_instance(call: ast.Call, norms: FileNorms) -> Optional[str]:
    """``ImageClassifier.pretrained`` for ``builder.pretrained()`` with ``builder`` bound
    only to ``ImageClassifier(...)`` (or for ``ImageClassifier().pretrained()``, and for
    ``self.pretrained()`` in a method of the class)."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    receiver = unwrap(func.value)
    if isinstance(receiver, ast.Call):
        cls = dotted(receiver.func)
    elif isinstance(receiver, ast.Name) and receiver.id == "self":  # self.create_model() in a method
        owner = norms.frames.kinds.class_of(call)
        cls = owner.name if owner is not None else None
    else:
        assert norms.knowledge is not None
        values = [unwrap(v) for v in norms.knowledge.bindings.get(dotted(receiver) or "", [])]
        classes = {dotted(v.func) if isinstance(v, ast.Call) else None for v in values}
        cls = classes.pop() if len(classes) == 1 else None
    return f"{cls}.{func.attr}" if cls else None


def _finish(norms: FileNorms) -> None:
    """Freezes handed on to a model that holds them, then a module's first freeze first (the one reported)."""
    if Path(norms.frames.unit.path).is_file():
        link_holders(norms, Path(norms.frames.unit.path))
        mark_handed_batchnorm(norms, Path(norms.frames.unit.path))
        # (read again for a class now known to keep the layers it is handed, ``Encoder(models.inception_v3())``)
        assert norms.knowledge is not None
        handed = set(norms.knowledge.handed_bn) - {f.target for f in norms.freezes if f.how == "unoptimised"}
        if handed:
            norms.freezes.extend(f for f in unoptimised_runs(norms) if f.target in handed)
    tree = norms.frames.unit.tree
    assert tree is not None  # (a factory's freeze under ``if stage in [...]`` a constant switch never takes)
    norms.freezes = [f for f in norms.freezes if not never_taken(f.node, norms.frames.parents, tree)]
    norms.freezes.sort(key=lambda freeze: (freeze.node.lineno, freeze.node.col_offset))


def _none(passed: Optional[ast.expr]) -> bool:
    return passed is None or isinstance(passed, ast.Constant) and passed.value is None


def _built_frozen(norms: FileNorms, value: ast.Call, callee: str, target: str,
                  factory_in: tuple[FreezingFactory, str], script: Path) -> bool:
    """The freeze of ``target``, built by ``value``, a call of the freezing factory
    ``callee``; False when this call does not freeze (its flag or its choice says so)."""
    parts, module = factory_in
    assert norms.knowledge is not None
    if refuses_keywords(value, parts.function, str(module)):
        return False  # feature_model(pretrained=True) of ``def feature_model(requires_grad)``: it raises first
    frozen = False
    for factory in parts.each():  # each part the factory freezes (a video and an audio encoder)
        if factory.guard is not None and factory_flag(value, factory.guard, norms.frames.kinds, norms.frames.unit.tree) is not True:
            continue  # it freezes only when asked to, and this call does not (or may not)
        if factory.guard is None and asks_unfrozen(value):
            continue  # ``create_model(name, freeze_backbone=False)``, its flag handed on through ``**kwargs``
        if factory.compare is not None and numeric_guard_holds(value, factory.compare, norms.frames.unit.tree) is False:
            continue  # pretrained_model(arch) with ``if k != 1: <freeze>`` and k left at 1
        if factory.choice is not None and _picks_other(value, factory.choice, norms, factory.mode_choice):
            continue  # initialize_model("alexnet", ...): the branch it takes builds no BatchNorm
        if factory.handed is not None and not ((given := argument(value, *factory.handed)) is not None
                                               and norms.knowledge.value_has_batchnorm(given, "", value)):
            continue  # ResNetTransferLearningNet(models.vgg16()): the module it freezes is the one handed to it
        norms.knowledge.bn_functions.add(callee)
        norms.knowledge.bn_functions.add(dotted(value.func) or callee)  # builder.pretrained(): the method
        via = _elsewhere(factory.function, factory.line, module, factory.origin, script)
        if factory.branch:  # "(line 6)" of the factory's module is "(utils.py:6)" here
            branch = factory.branch if via.path is None else re.sub(r"\(line (\d+)\)", rf"({via.path}:\1)", factory.branch)
            via = replace(via, branch=branch)
        how = "factory_no_grad" if factory.how == "no_grad" else "factory"
        norms.freezes.append(Freeze(target + factory.rest, how, value, via=via, part=factory.part,
                                    built_by=None if factory.puts_in_eval else callee, partial=factory.partial))
        frozen = True
    return frozen


def _in_sequential(norms: FileNorms, value: ast.Call, name: str, factories: Known, script: Path) -> None:
    """``model = nn.Sequential(CNNEncoder(), RNNDecoder())``: a freezing factory's model
    built as one of its layers is ``model[0]``."""
    assert norms.knowledge is not None
    if (norms.knowledge.names.qualify(value.func) or "") != "torch.nn.Sequential" or value.keywords:
        return
    for index, layer in enumerate(value.args):
        layer = unwrap(layer)
        if isinstance(layer, ast.Call) and (callee := dotted(layer.func)) in factories and \
                factories[callee][0].position is None:
            _built_frozen(norms, layer, callee, f"{name}[{index}]", factories[callee], script)


def _target(target: ast.expr, position: Optional[int]) -> Optional[str]:
    """The name a factory's model is bound to: ``model = f()``, or ``model, size = f()``
    for a factory returning ``model, size``."""
    if position is None:
        return dotted(target)
    if isinstance(target, (ast.Tuple, ast.List)) and position < len(target.elts):
        return dotted(target.elts[position])
    return None


def _elsewhere(function: str, line: int, module: str, origin: Optional[Origin], script: Path) -> Elsewhere:
    if origin is not None and (origin.function, origin.line) == (function, line):
        module, origin = origin.path, None  # re-exported by a package's __init__: where it really is
    shown = None if Path(module) == script else shown_path(Path(module), script)
    inner = (Elsewhere(origin.function, origin.line, None if Path(origin.path) == script else shown_path(Path(origin.path), script))
             if origin is not None else None)
    return Elsewhere(function, line, shown, inner)


def _picks_other(call: ast.Call, choice: Choice, norms: FileNorms, mode: bool = False) -> bool:
    """The call passes a string written in the code that picks a branch not among
    ``choice``'s values (a command-line option's default is one configuration of several
    networks; of a freeze ``mode``, it is the run's, as a freeze flag's default is)."""
    index, name, values = choice
    passed = argument(call, index, name)
    tree = norms.frames.unit.tree
    assert tree is not None
    picked = (chosen_string(passed, norms.frames.kinds.frame_of(call), tree, options=mode)
              if passed is not None else None)
    return picked is not None and picked not in values


