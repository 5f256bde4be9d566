"""GL406's fact for a frozen model whose mode nothing in the file ever sets: a module is
built in train mode, so a frozen backbone that only runs (``with torch.no_grad(): feats
= backbone(x)``, or frozen by ``requires_grad``) in the training loop updates its
BatchNorm statistics on every batch although nobody calls ``train()``.

Only for a model the file builds itself (a torchvision/timm constructor, a Sequential of
its layers, or a project factory or class that never puts it in eval mode) and hands to no
other function or class, which may switch its mode, but a helper that only runs it
(:mod:`gradlint.source.module_runners`)."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.dead_branches import never_taken
from gradlint.source.frames import Training
from gradlint.source.freeze_forms import holds, related
from gradlint.source.frozen_norms import FileNorms, ModeCall
from gradlint.source.names import dotted
from gradlint.source.module_runners import LOOKS, PLAIN_USES
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.runner_handoffs import MODE_WORDS, DefaultRun, handed_to_runner, mode_neutral, never_sets_a_mode
from gradlint.source.reaching_bindings import PARALLEL_WRAPPERS
from gradlint.source.unoptimised_runs import list_members


def run_in_default_mode(norms: FileNorms, target: str, built_by: Optional[str] = None,
                        neutral: frozenset[str] = frozenset(), spared: tuple[str, ...] = ()) -> Optional[DefaultRun]:
    """The first run of ``target`` (``backbone(x)`` in a training function, or handing it
    to a helper that only runs it) when the file never sets its mode (nor a parent's or a
    part's) and builds it itself (or ``built_by``, a factory that never puts it in eval
    mode, does); else None. ``model.backbone`` runs when ``model`` does. ``neutral``: the
    model's methods known to leave its mode alone (``model.freeze_layers()``); ``spared``: its
    parts the optimiser takes, whose own mode calls leave the frozen rest alone."""
    if "." in target and built_by is None:
        return None
    root = target.split(".")[0]
    # (``encoder.batchnorm.train()`` on a part the optimiser takes sets none of the frozen rest's mode)
    setting = [m for m in norms.modes if (related(m.target, target) or holds(target, m.target) or related(m.target, root))
               and not any(holds(part, m.target) for part in spared)]
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    if not _built_here(norms, root, built_by) or _wraps_evaluated(norms, root):
        return None
    training = {id(frame.node) for frame in norms.frames.frames if any(isinstance(f, Training) for f in frame.facts)}
    kinds = norms.frames.kinds
    parents = norms.frames.parents
    used: Optional[DefaultRun] = None
    binding = _binding_frames(norms, root, built_by)
    running = _running_methods(norms, built_by) if "." in target else set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == root and isinstance(node.ctx, ast.Load)):
            continue
        if not _reads_built(norms, node, binding):
            continue  # another function's own ``backbone`` (a parameter, a local)
        if _after_training(norms, node) or _returns_before_training(norms, node):
            continue  # ``evaluate(extractor, ...)`` once the training loop is over, or instead of it
        parent = parents.get(node)
        run: Optional[DefaultRun] = None
        if isinstance(parent, ast.Call) and parent.func is node:
            frame = kinds.frame_of(parent) or tree
            if id(frame) in training:
                run = DefaultRun(parent) if _in_training_loop(norms, parent, frame) else None
            else:  # ``def sync_loss(g): return expert(g)``, called in the training loop
                caller = _called_in_training_loop(norms, frame, training)
                run = DefaultRun(parent, within=(getattr(frame, "name", ""), caller)) if caller is not None else None
        elif isinstance(parent, ast.Attribute):
            grandparent = parents.get(parent)
            called = isinstance(grandparent, ast.Call) and grandparent.func is parent
            if called and parent.attr in ("train", "eval"):
                continue  # one of the mode calls read above
            if called and (parent.attr in running or parent.attr in ("forward", "__call__")) \
                    and isinstance(grandparent, ast.Call):
                # distiller.forward_train(x, y): a method of the class that runs its teacher (prev_model.forward(x))
                frame = kinds.frame_of(grandparent) or tree
                if id(frame) in training and norms.frames.innermost_loop(grandparent, frame) is not None:
                    run = DefaultRun(grandparent)
                    if used is None or run.call.lineno < used.call.lineno:
                        used = run
                continue
            if called and parent.attr not in PLAIN_USES and parent.attr not in neutral:
                return None  # backbone.freeze(), backbone.apply(fn): may set its mode
            continue  # backbone.fc = nn.Identity(), backbone.fc.in_features
        elif isinstance(parent, (ast.Subscript, ast.Assign)):
            continue  # backbone = backbone[:-1]
        elif isinstance(parent, ast.Call) and dotted(parent.func) in LOOKS or _saved_within(parents, node):
            continue  # print(backbone); torch.save({"model": model, "opt": opt}, path)
        elif isinstance(parent, (ast.List, ast.Tuple)):
            # ``teachers = [teacher_1, teacher_2]`` ... ``for t in teachers: t(x)`` in the training loop
            run = _listed_run(norms, root, training)
            if run is None:
                return None  # a list handed on: what is done with its members is not known here
        elif isinstance(parent, ast.Call) and norms.frames.names.qualify(parent.func) in _COPIES:
            continue  # student = copy.deepcopy(teacher): a copy, the original's mode is left alone
        elif isinstance(parent, ast.Call) and norms.frames.names.qualify(parent.func) == _DATA_PARALLEL \
                and parent.args and parent.args[0] is node:
            # nn.parallel.data_parallel(encoder, images, ids): runs it, as ``encoder(images)`` would
            frame = kinds.frame_of(parent) or tree
            run = DefaultRun(parent) if id(frame) in training and _in_training_loop(norms, parent, frame) else None
        elif isinstance(parent, ast.Call) and _rewrapped_as_itself(norms, parent, root):
            continue  # teacher = nn.DataParallel(teacher).cuda(): the same module, its runs read as ``teacher``
        elif isinstance(parent, ast.Expr):
            continue  # a notebook cell's bare ``model``: it shows the model and leaves its mode alone
        else:
            call = parents.get(parent) if isinstance(parent, ast.keyword) else parent
            if not isinstance(call, ast.Call):
                return None
            run = handed_to_runner(norms, call, node)
            if run is None and mode_neutral(norms, call):
                continue  # early_stop(loss, model): a project helper that never sets a mode (saves a checkpoint)
            if run is None:
                return None  # handed to something else (a wrapper, a helper): its mode is not known here
        if run is not None and (used is None or run.call.lineno < used.call.lineno):
            used = run
    # (``encoder = EncoderCNN(); encoder.eval()`` in an evaluation function builds and sets its own)
    own = [m for m in setting if kinds.frame_of(m.call) is kinds.frame_of(used.call)
           or id(kinds.frame_of(m.call)) not in binding[0]] if used is not None else []
    if used is not None and any(not norms.frames.exclusive(m.call, used.call) and not _after_loop(norms, m, used.call)
                                for m in own):
        return None  # (an ``encoder.eval()`` in the test branch of ``if not args.test:`` leaves training alone)
    return used


def _rewrapped_as_itself(norms: FileNorms, call: ast.Call, name: str) -> bool:
    """``call`` wraps ``name`` for data parallelism and the result is bound to ``name`` again
    (``teacher = nn.DataParallel(teacher).cuda()``)."""
    if (dotted(call.func) or "").rsplit(".", 1)[-1] not in PARALLEL_WRAPPERS or not (
            call.args and isinstance(call.args[0], ast.Name) and call.args[0].id == name):
        return False
    bound = norms.frames.parents.get(call)
    while isinstance(bound, (ast.Attribute, ast.Call)):  # (``.cuda()``, ``.to(device)`` after it)
        bound = norms.frames.parents.get(bound)
    return (isinstance(bound, ast.Assign) and len(bound.targets) == 1 and isinstance(bound.targets[0], ast.Name)
            and bound.targets[0].id == name)


def _listed_run(norms: FileNorms, name: str, training: set[int]) -> Optional[DefaultRun]:
    """The first run of ``name`` as a member of a list of networks run one by one in a
    training loop (``for tm in teacher_models: tm(x)``)."""
    tree = norms.frames.unit.tree
    assert tree is not None
    kinds = norms.frames.kinds
    for loop in ast.walk(tree):
        if not (isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and isinstance(loop.iter, ast.Name)):
            continue
        frame = kinds.frame_of(loop) or tree
        if id(frame) not in training:
            continue
        for call in ast.walk(loop):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == loop.target.id
                    and _in_training_loop(norms, call, frame) and any(m == name for m, _ in list_members(norms, frame, call, loop.target.id))):
                return DefaultRun(call)
    return None


def _wraps_evaluated(norms: FileNorms, name: str) -> bool:
    """``name`` is built around a model put in eval mode before (``teacher.eval()``, then
    ``t_extractor = FeatureExtractor(teacher, layers)``): building the wrapper leaves the
    wrapped model's mode as it was."""
    assert norms.knowledge is not None
    frame_of = norms.frames.kinds.frame_of
    for value in norms.knowledge.bindings.get(name, []):
        built = unwrap(value)
        if not isinstance(built, ast.Call):
            continue
        handed = {dotted(arg) for arg in [*built.args, *(k.value for k in built.keywords)] if dotted(arg)}
        if any(not m.train and m.target in handed and m.call.lineno < built.lineno and frame_of(m.call) is frame_of(built)
               for m in norms.modes):
            return True
    return False


def _running_methods(norms: FileNorms, built_by: Optional[str]) -> set[str]:
    """The methods of ``built_by``, a class of the file, and of its bases in the file, that
    set no mode (``forward_train``): calling one runs the model's parts."""
    classes = norms.frames.kinds.classes
    pending = [classes[built_by]] if built_by in classes else []
    found: set[str] = set()
    while pending:
        cls = pending.pop()
        found |= {f.name for f in cls.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("__")
                  and not any(word in ast.unparse(f) for word in MODE_WORDS)}
        pending += [classes[name] for base in cls.bases if (name := dotted(base) or "") in classes and classes[name] is not cls]
    return found


_DATA_PARALLEL = "torch.nn.parallel.data_parallel"


def _saved_within(parents: dict, node: ast.AST) -> bool:
    """``node`` is a value of a dict (or list) literal handed to a call that only saves or shows
    it (``torch.save({"model": model}, path)``)."""
    child, parent = node, parents.get(node)
    if not isinstance(parent, (ast.Dict, ast.List, ast.Tuple)):
        return False
    while isinstance(parent, (ast.Dict, ast.List, ast.Tuple)):
        child, parent = parent, parents.get(parent)
    return isinstance(parent, ast.Call) and dotted(parent.func) in LOOKS and child in parent.args


def _returns_before_training(norms: FileNorms, node: ast.AST) -> bool:
    """``node`` is in an ``if`` arm that returns (``if args.sample: return sample(encoder, ...)``)
    before a loop of its function that trains: that path never reaches the training."""
    frame = norms.frames.kinds.frame_of(node) or norms.frames.unit.tree
    parents = norms.frames.parents
    facts = next((f.facts for f in norms.frames.frames if f.node is frame), [])
    starts = [fact.node.lineno for fact in facts if isinstance(fact, Training)]
    child, parent = node, parents.get(node)
    while parent is not None and parent is not frame:
        if isinstance(parent, ast.If) and child is not parent.test:
            arm = parent.body if child in parent.body else parent.orelse
            if arm and isinstance(arm[-1], ast.Return) and any(start > (parent.end_lineno or 0) for start in starts):
                return True
        child, parent = parent, parents.get(parent)
    return False


def _after_training(norms: FileNorms, node: ast.AST) -> bool:
    """``node`` comes after every loop of its function that trains (a backward or step in it)."""
    frame = norms.frames.kinds.frame_of(node) or norms.frames.unit.tree
    assert frame is not None
    facts = next((f.facts for f in norms.frames.frames if f.node is frame), [])
    ends = [loop.end_lineno or loop.lineno for fact in facts if isinstance(fact, Training)
            if (loop := _outermost_loop(norms, fact.node, frame)) is not None]
    return bool(ends) and getattr(node, "lineno", 0) > max(ends)


def _outermost_loop(norms: FileNorms, node: ast.AST, frame: ast.AST) -> Optional[ast.stmt]:
    outer = None
    while (node := norms.frames.innermost_loop(node, frame)) is not None:  # type: ignore[assignment]
        outer = node
    return outer


def _after_loop(norms: FileNorms, mode: ModeCall, run: ast.Call) -> bool:
    """``mode`` (its call, or the call handing the model to the helper making it) comes after
    the training loops of the function that runs the model: ``extractor.eval()`` once the
    fine-tuning is over sets nothing for it."""
    place = mode.site or mode.call
    kinds = norms.frames.kinds
    return kinds.frame_of(place) is kinds.frame_of(run) and _after_training(norms, place)


# what a helper that may change a module's mode (or freeze it) says
_COPIES = frozenset({"copy.deepcopy", "copy.copy"})


def _alone(norms: FileNorms, value: ast.expr) -> bool:
    """``value`` is bound to one name (``teacher = ResNet18()``, not ``model, loss = setup()``)."""
    statement = norms.frames.parents.get(value)
    return isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)


def _in_training_loop(norms: FileNorms, call: ast.Call, frame: ast.AST) -> bool:
    """A run in a training function counts; at module level, only inside a loop that trains
    (a tutorial script that runs the frozen model once, between other examples, does not)."""
    tree = norms.frames.unit.tree
    if frame is not tree:
        return True
    facts = next((f.facts for f in norms.frames.frames if f.node is frame), [])
    loop = norms.frames.innermost_loop(call, frame)
    while loop is not None:  # the loop over frames inside the loop over videos that steps
        end = loop.end_lineno or loop.lineno
        if any(isinstance(fact, Training) and loop.lineno <= fact.node.lineno <= end for fact in facts):
            return True
        loop = norms.frames.innermost_loop(loop, frame)
    return False


def _binding_frames(norms: FileNorms, name: str, built_by: Optional[str] = None) -> tuple[set[int], set[int]]:
    """The functions (and the module, as 0) that assign ``name`` themselves, and those that
    have it as a parameter (another model, whatever their callers pass). With ``built_by``,
    only the functions building it with that call when some do (a trainer's own ``loss =
    loss0 + loss2`` is another name)."""
    tree = norms.frames.unit.tree
    assert tree is not None
    assigned: set[int] = set()
    building: set[int] = set()
    parameters: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and built_by is not None and isinstance(value := unwrap(node.value), ast.Call) \
                and dotted(value.func) == built_by and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            frame = norms.frames.kinds.frame_of(node)
            building.add(id(frame) if frame is not None else 0)
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
            frame = norms.frames.kinds.frame_of(node)
            assigned.add(id(frame) if frame is not None else 0)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and any(
                a.arg == name for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)):
            parameters.add(id(node))
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                (alias.asname or alias.name) == name for alias in node.names):  # from model import resnet50
            frame = norms.frames.kinds.frame_of(node)
            assigned.add(id(frame) if frame is not None else 0)
    return building or assigned, parameters


def _reads_built(norms: FileNorms, node: ast.Name, binding: tuple[set[int], set[int]]) -> bool:
    """The use ``node`` reads the model the file builds: its own function's, or the
    module's in a function with no ``name`` of its own."""
    assigned, parameters = binding
    frame = norms.frames.kinds.frame_of(node)
    here = id(frame) if frame is not None else 0
    if here in parameters:
        return False
    return here in assigned or 0 in assigned


def _called_in_training_loop(norms: FileNorms, function: ast.AST, training: set[int],
                             depth: int = 0) -> Optional[ast.Call]:
    """The first call of ``function``, a module-level function of the file, inside a training
    loop (one that steps, directly or through one more such function): a loss helper that
    runs a frozen network (``get_sync_loss``) runs it on every batch."""
    tree = norms.frames.unit.tree
    assert tree is not None
    if not isinstance(function, ast.FunctionDef) or function not in tree.body or depth > 1:
        return None
    kinds = norms.frames.kinds
    found: Optional[ast.Call] = None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function.name):
            continue
        frame = kinds.frame_of(node) or tree
        if id(frame) in training:
            inside = norms.frames.innermost_loop(node, frame) is not None and _in_training_loop(norms, node, frame)
            call = node if inside else None
        else:
            call = node if _called_in_training_loop(norms, frame, training, depth + 1) is not None else None
        if call is not None and (found is None or call.lineno < found.lineno):
            found = call
    return found


def _built_here(norms: FileNorms, name: str, built_by: Optional[str]) -> bool:
    """Every binding of ``name`` builds the model in this file (no project function or
    class of another file, which may put it in eval mode), or is ``built_by`` (a factory
    known to leave its mode alone), or None (``backbone = None`` before it is built)."""
    assert norms.knowledge is not None
    foreign = norms.knowledge.local_bn_names() | norms.knowledge.bn_functions
    tree = norms.frames.unit.tree
    assert tree is not None
    # (``if False: model = torch.load(path)["model"]``: a branch that never runs builds nothing)
    values = [v for v in norms.knowledge.bindings.get(name, []) if not never_taken(v, norms.frames.parents, tree)]
    if not values:  # a model frozen at module level of the module it is imported from
        return built_by == name and name in norms.knowledge.imported_bn
    frame_of = norms.frames.kinds.frame_of
    where = {id(frame_of(v)) for v in values if isinstance(u := unwrap(v), ast.Call) and dotted(u.func) == built_by}
    if where:  # (``loss = RUENet_loss()`` in ``setup``; another function's ``loss = a + b`` is its own local)
        values = [v for v in values if id(frame_of(v)) in where]
    built = False
    for bound in values:
        value = unwrap(bound)
        while isinstance(value, ast.Subscript) or isinstance(value, ast.Attribute) and isinstance(value.value, ast.Call):
            value = value.value  # (``models.efficientnet_b0(weights=...).features``: a part of a model built here)
        if isinstance(value, ast.Name) and value.id == name or isinstance(value, ast.Constant) and value.value is None:
            continue
        callee = dotted(value.func) if isinstance(value, ast.Call) else None
        if callee is None or callee in foreign and callee != built_by and not (
                isinstance(value, ast.Call) and _alone(norms, bound) and never_sets_a_mode(norms, value)):
            return False
        built = True
    return built
