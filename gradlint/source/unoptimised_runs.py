"""GL406: a network the training loop runs but no optimiser takes, frozen by omission.

A distillation teacher, a pretrained classifier used as a loss network, or a feature
extractor whose output is ``detach()``ed is often neither wrapped in ``torch.no_grad()`` nor
frozen with ``requires_grad``: it is simply left out of every optimiser. Its parameters never
change, but in train mode its BatchNorm statistics do. :func:`unoptimised_runs` finds such a
network where the file says who every optimiser trains, so that "no optimiser takes it" is
read, not guessed."""

from __future__ import annotations

import ast
import re
from typing import Optional

from gradlint.source.call_arguments import argument
from gradlint.source.dead_branches import never_taken
from gradlint.source.frames import OptimizerBuilt, Training
from gradlint.source.parameter_owners import optimiser_owners
from gradlint.source.freeze_facts import MODULE_METHODS, FileNorms, Freeze, ModeCall
from gradlint.source.freeze_forms import holds, related, takes_parameter
from gradlint.source.names import classify, dotted
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.reaching_bindings import PARALLEL_WRAPPERS

# a call that may build or hand over an optimiser gradlint does not read
_NOT_NETWORKS = frozenset({"optimizer", "scheduler", "scaler"})  # (``scaler.step(optimizer)`` runs no network)
_OPTIMISER_MAKER = re.compile(r"optim", re.IGNORECASE)
# (a ``state_dict()`` read copies the weights: ``target.load_state_dict(source.state_dict())`` trains ``target``)
_PARAMETER_READS = frozenset({"parameters", "named_parameters", "requires_grad_", "apply"})


def unoptimised_runs(norms: FileNorms) -> list[Freeze]:
    """An ``unoptimised`` freeze at the first training-loop run of each network of the file
    (a plain name bound only to a constructor call) that no optimiser takes, when every
    optimiser of the file names the modules it trains."""
    frames = norms.frames
    tree = frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    optimisers = known_optimisers(norms)
    if optimisers is None:
        return []
    found: dict[str, Freeze] = {}
    # (frozen already: that freeze is read; not one the file undoes, ``requires_grad = True`` each epoch)
    read = parameters_read(tree, norms.optimised, norms.frames.parents) | {
        f.target for f in norms.freezes if not any(holds(u, f.target) for u in norms.unfrozen)}
    training = [frame for frame in frames.frames if _backward(frame)]
    for frame in training:
        tried: set[str] = set()  # each name read once a function, at its first run in a loop
        for call in sorted((n for n in ast.walk(frame.node) if isinstance(n, ast.Call) and _run_name(n) is not None),
                           key=lambda n: (n.lineno, n.col_offset)):
            name = _run_name(call)
            assert name is not None
            if (name in found or name in tried or name in read or (frames.kinds.frame_of(call) or tree) is not frame.node
                    or frames.innermost_loop(call, frame.node) is None
                    or frames.names.kind_of(name) in _NOT_NETWORKS):
                continue
            tried.add(name)
            # (a parameter of the training function is whatever its calls hand it: read there, not by its name's bindings)
            own = not takes_parameter(frame.node, name) and built_alone(norms, name) and not _handed_on(norms, name, name, read)
            if (own or _handed_alone(norms, frame.node, name, read)) \
                    and not any(related(o, name) for o in norms.optimised) and norms.knowledge.has_batchnorm_there(name, call):
                found[name] = Freeze(name, "unoptimised", call)
            # ``for tm in teacher_models: tm(x)``: each network of the list, where the list is built of names
            for member, listed in list_members(norms, frame.node, call, name):
                if (member not in found and member not in read and built_alone(norms, member)
                        and not any(related(o, member) for o in norms.optimised)
                        and norms.knowledge.has_batchnorm(member, None, listed)):
                    found[member] = Freeze(member, "unoptimised", listed)  # (read where the list names it)
    for mode in norms.modes:  # ``d_net.t_net.train()``: a part put in train mode on purpose
        if (mode.train and not (mode.via or mode.by or mode.implicit) and mode.target not in found
                and mode.target not in read and any(mode.frame is frame.node for frame in training)
                and (network := _unoptimised_network(norms, mode.target, read)) and _same_name_passed(norms, mode)
                and (norms.knowledge.has_batchnorm(mode.target, None, None) or _network_has_batchnorm(norms, network))):
            found[mode.target] = Freeze(mode.target, "unoptimised", mode.call)
    return list(found.values())


def list_members(norms: FileNorms, function: ast.AST, call: ast.Call, name: str) -> list[tuple[str, ast.Name]]:
    """The networks ``name`` runs one by one, each with where the list names it: ``for tm
    in teachers: tm(x)`` with ``teachers`` a list (or tuple) of plain names, bound so in
    ``function`` or handed to it by every call of it (``train(student, [teacher_1,
    teacher_2])``, or a name bound to such a list); else []."""
    loop = norms.frames.parents.get(call)
    while loop is not None and loop is not function and not (isinstance(loop, ast.For) and dotted(loop.target) == name):
        loop = norms.frames.parents.get(loop)
    if not isinstance(loop, ast.For) or not isinstance(loop.iter, ast.Name):
        return []
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    held = loop.iter.id
    passed = _passed_at_calls(tree, function, held)
    values: list[Optional[ast.expr]] = ([arg for _, arg in passed] if passed is not None
                                         else [v for v in norms.knowledge.bindings.get(held, [])])
    members: list[tuple[str, ast.Name]] = []
    if not _members_only_run(tree, {held} | {v.id for v in values if isinstance(v, ast.Name)}):
        return []
    for value in values:
        if isinstance(value, ast.Name):  # (a name bound once to the list)
            bound = [v for v in norms.knowledge.bindings.get(value.id, []) if isinstance(v, (ast.List, ast.Tuple))]
            value = bound[0] if len(bound) == 1 == len(norms.knowledge.bindings[value.id]) else None
        if not isinstance(value, (ast.List, ast.Tuple)) or not value.elts \
                or not all(isinstance(e, ast.Name) for e in value.elts):
            return []
        members += [(e.id, e) for e in value.elts if isinstance(e, ast.Name) and all(e.id != m for m, _ in members)]
    return members


def _members_only_run(tree: ast.Module, lists: set[str]) -> bool:
    """No loop or comprehension over one of ``lists`` touches a member but to call it
    (``for t in teachers: t.eval()``, ``[p for m in models for p in m.parameters()]``
    set its mode or train it)."""
    for node in ast.walk(tree):
        loops: list[tuple[ast.expr, ast.expr, ast.AST]] = []
        if isinstance(node, (ast.For, ast.AsyncFor)):
            loops.append((node.target, node.iter, node))
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            loops += [(g.target, g.iter, node) for g in node.generators]
        for target, iterated, body in loops:
            if not (isinstance(iterated, ast.Name) and iterated.id in lists):
                continue
            if not isinstance(target, ast.Name) or any(
                    isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) and sub.value.id == target.id
                    for sub in ast.walk(body)):
                return False
    return True


def _same_name_passed(norms: FileNorms, mode: ModeCall) -> bool:
    """The train call's receiver is the module-level network of its name: a global, or a
    parameter every call of its function passes that global for (``Distillation(d_net, ...)``)."""
    root = mode.target.split(".")[0]
    tree = norms.frames.unit.tree
    assert tree is not None
    passed = _passed_at_calls(tree, mode.frame, root)
    if passed is None:
        return True
    return bool(passed) and all(isinstance(arg, ast.Name) and arg.id == root for _, arg in passed)


def _passed_at_calls(tree: ast.Module, function: ast.AST, name: str) -> Optional[list[tuple[ast.Call, Optional[ast.expr]]]]:
    """Each call of ``function`` in the file, with what it passes for ``function``'s
    parameter ``name``; None when ``function`` is no function taking ``name``."""
    if not isinstance(function, ast.FunctionDef) or name not in (params := [a.arg for a in function.args.args]):
        return None
    return [(call, argument(call, params.index(name), name)) for call in ast.walk(tree)
            if isinstance(call, ast.Call) and dotted(call.func) == function.name]


def _backward(frame: object) -> bool:
    return any(isinstance(f, Training) and f.what == "backward" for f in getattr(frame, "facts", ()))


def _unoptimised_network(norms: FileNorms, target: str, read: set[str]) -> Optional[str]:
    """The network ``target`` is when it is one built alone (``t_net = WRN22_4()``), or a
    wrapper's part kept from one (``d_net.t_net`` of ``d_net = Distiller(t_net, s_net)``),
    that no optimiser takes; else None."""
    assert norms.knowledge is not None
    root, _, attr = target.partition(".")
    network = root
    if attr.startswith("module."):  # d_net.module.t_net of ``d_net = DataParallel(d_net)``
        attr = attr[len("module."):]
    if attr:
        values = [unwrap(v) for v in norms.knowledge.bindings.get(root, []) if not _rewrapped(unwrap(v), root)]
        if len(values) != 1 or not isinstance(built := values[0], ast.Call) or "." in attr:
            return None
        kept = norms.knowledge._kept_argument(built, dotted(built.func) or "", attr)
        if kept is None or kept[1] or not isinstance(kept[0], ast.Name):
            return None
        network = kept[0].id
    if (network not in read and built_alone(norms, network) and not _handed_on(norms, network, root)
            and not any(related(o, name) for o in norms.optimised for name in (network, target))):
        return network
    return None


def _network_has_batchnorm(norms: FileNorms, network: str) -> bool:
    """The network a wrapper's part is (``t_net`` of ``d_net.module.t_net``) holds BatchNorm
    where it is last bound (in ``main``, where the name is a local)."""
    assert norms.knowledge is not None
    values = norms.knowledge.bindings.get(network, [])
    last = max(values, key=lambda v: (v.lineno, v.col_offset), default=None)
    return last is not None and norms.knowledge.has_batchnorm_there(network, last)


def _rewrapped(value: ast.expr, name: str) -> bool:
    """``d_net = nn.DataParallel(d_net)``: the same network, wrapped."""
    return (isinstance(value, ast.Call) and (dotted(value.func) or "").rsplit(".", 1)[-1] in PARALLEL_WRAPPERS
            and bool(value.args) and isinstance(value.args[0], ast.Name) and value.args[0].id == name)


def _handed_on(norms: FileNorms, network: str, holder: str, read: Optional[set[str]] = None) -> bool:
    """Another name is bound to something built from ``network`` (``net = model.cuda()``, an
    optimiser's alias): only the ``holder`` that keeps it as a part may hold it. With ``read``
    (the names whose parameters the file reads), an ``nn.Sequential`` holding it that nothing
    optimises, reads the parameters of or hands on (``model = nn.Sequential(encoder, head)``
    with only ``head`` optimised, for ``model.train()`` and evaluation) does not count."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    # (where ``network`` is that network: not ``self.t_net = t_net``, a parameter of the wrapper's __init__)
    frames = [frame for frame, names in norms.knowledge.scoped.items() if network in names]
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and any(dotted(t) not in (network, holder) for t in node.targets)
                and any(norms.frames.kinds.frame_of(node) is frame for frame in frames)):
            continue
        value = unwrap(node.value)  # (``net = model.cuda()``, ``net = DataParallel(model)``; not ``loss = run(model)``)
        if isinstance(value, ast.Attribute) and value.attr == "module":
            value = value.value  # ``model_without_dp = model.module``: the model a wrapper holds
        if isinstance(value, ast.Name) and value.id == network or isinstance(value, ast.Call) and any(
                isinstance(arg, ast.Name) and arg.id == network for arg in value.args) \
                and (dotted(value.func) or "").rsplit(".", 1)[-1][:1].isupper():
            if read is not None and isinstance(value, ast.Call) and _idle_sequential(norms, node, value, read):
                continue
            return True
    return False


def _idle_sequential(norms: FileNorms, node: ast.Assign, value: ast.Call, read: set[str]) -> bool:
    """``model = nn.Sequential(encoder, head)`` whose name no optimiser takes, whose
    parameters nothing reads and which is never handed to a call, returned or rebound."""
    tree = norms.frames.unit.tree
    assert tree is not None
    if not ((dotted(value.func) or "").rsplit(".", 1)[-1] == "Sequential" and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)):
        return False
    holder = node.targets[0].id
    if holder in read or any(related(o, holder) for o in norms.optimised):
        return False
    for other in ast.walk(tree):
        if isinstance(other, ast.Call) and any(isinstance(arg, ast.Name) and arg.id == holder
                                               for arg in [*other.args, *(k.value for k in other.keywords)]):
            return False  # ``train(model, ...)``: what the callee does with it is not read here
        if isinstance(other, ast.Return) and isinstance(other.value, ast.Name) and other.value.id == holder:
            return False
        if isinstance(other, ast.Assign) and other is not node and any(
                isinstance(sub, ast.Name) and sub.id == holder for sub in ast.walk(other.value)):
            return False  # ``net = model.cuda()``, ``models = [model]``: another name for it
    return True


def _run_name(call: ast.Call) -> Optional[str]:
    """The network ``call`` runs: ``teacher(x)``, or a method of its own
    (``source_net.features(x)``), not one of ``nn.Module``'s (``.to()``, ``.state_dict()``)."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr not in MODULE_METHODS
            and not func.attr.startswith("_")):
        return func.value.id
    return None


def known_optimisers(norms: FileNorms) -> Optional[set[str]]:
    """The names of the file's optimisers when each is built here from named modules'
    parameters and every optimiser stepped is one of them; else None."""
    frames = norms.frames
    tree = frames.unit.tree
    assert tree is not None
    if "*" in norms.optimised or not norms.optimised:
        return None
    built: set[str] = set()
    nodes: set[int] = set()
    for frame in frames.frames:
        for fact in frame.facts:
            if not isinstance(fact, OptimizerBuilt):
                continue
            call = fact.node
            assert isinstance(call, ast.Call)
            if not optimiser_owners(call, frame.node):
                return None
            built.add(fact.name)
            nodes.add(id(call))
    names = frames.names
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _OPTIMISER_MAKER.search(node.name):
            return None  # configure_optimizers, build_optimizer: built where it is not read
        if not isinstance(node, ast.Call):
            continue
        callee = names.qualify(node.func) or dotted(node.func) or ""
        if id(node) not in nodes and not never_taken(node, frames.parents, tree) and (classify(callee) == "optimizer" or _OPTIMISER_MAKER.search(callee.rsplit(".", 1)[-1])):
            return None
        if isinstance(node.func, ast.Attribute) and node.func.attr == "step" and not node.args:
            receiver = dotted(node.func.value)
            if receiver not in built and names.kind_of(receiver) not in ("scheduler", "scaler", None):
                return None
    return built


def parameters_read(tree: ast.Module, optimised: Optional[set[str]] = None, parents: Optional[dict] = None) -> set[str]:
    """Names whose parameters (or state) the file reads anywhere: they may be optimised,
    clipped or frozen in ways this reading does not follow; and names synced from another
    network (``target_net.load_state_dict(policy_net.state_dict())``, a DQN's target; with
    ``optimised``, only from a network one of them trains: ``t_net.load_state_dict(loaded.state_dict())``
    loads a checkpoint)."""
    counted = {id(sub) for node in ast.walk(tree) if isinstance(node, ast.Call) and dotted(node.func) == "sum"
               for sub in ast.walk(node)}  # ``sum(p.numel() for p in net.parameters())`` only counts them
    # (``for p in encoder.parameters(): p.requires_grad = True`` only lets gradients reach it: no optimiser steps it)
    flagged = {id(loop.iter.func) for loop in ast.walk(tree) if isinstance(loop, ast.For) and _only_sets_requires_grad(loop)
               and isinstance(loop.iter, ast.Call)}
    read = {node.value.id for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and node.attr in _PARAMETER_READS and isinstance(node.value, ast.Name) and id(node) not in counted
            and id(node) not in flagged
            and not (parents is not None and never_taken(node, parents, tree))}  # (not in a branch that never runs)
    synced = {call.func.value.id for call in ast.walk(tree) if isinstance(call, ast.Call)
              and isinstance(call.func, ast.Attribute) and call.func.attr == "load_state_dict"
              and isinstance(call.func.value, ast.Name)
              and any(isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                      and inner.func.attr == "state_dict" and (optimised is None or any(
                          related(o, dotted(inner.func.value) or "") for o in optimised))
                      for arg in call.args for inner in ast.walk(arg))}
    return read | synced


def _only_sets_requires_grad(loop: ast.For) -> bool:
    """``for p in net.parameters(): p.requires_grad = <flag>``: the loop does nothing else."""
    if not (isinstance(loop.target, ast.Name) and isinstance(loop.iter, ast.Call) and not loop.iter.args
            and isinstance(loop.iter.func, ast.Attribute) and loop.iter.func.attr == "parameters" and not loop.orelse):
        return False
    return all(isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(t := stmt.targets[0], ast.Attribute)
               and t.attr == "requires_grad" and isinstance(t.value, ast.Name) and t.value.id == loop.target.id
               for stmt in loop.body)


def built_alone(norms: FileNorms, name: str) -> bool:
    """Every binding of ``name`` is a constructor call that is handed no other network of the
    file (``teacher = Teacher()``, not ``net = nn.DataParallel(model)`` or ``net = model``)."""
    assert norms.knowledge is not None
    values = norms.knowledge.bindings.get(name, [])
    if not values:
        return False
    knowledge = norms.knowledge
    roots = {o.split(".")[0] for o in norms.optimised}

    def network(other: str) -> bool:
        return other != name and (other in roots or other in knowledge.bindings
                                  and knowledge.has_batchnorm(other, None, None))

    tree = norms.frames.unit.tree
    assert tree is not None
    for value in values:
        if never_taken(value, norms.frames.parents, tree):
            continue  # ``else: encoder = checkpoint['encoder']`` under ``if checkpoint is None:`` with ``checkpoint = None``
        bound = norms.frames.parents.get(value)
        # (``t_net, s_net, args = load_settings(args)``: one of several things a call returns; where one is
        # an optimiser, its step() is not one the file builds and no optimiser is known)
        if not (isinstance(bound, ast.Assign) and len(bound.targets) == 1 and (
                dotted(bound.targets[0]) == name or isinstance(bound.targets[0], ast.Tuple)
                and any(dotted(e) == name for e in bound.targets[0].elts))):
            return False
        call = unwrap(value)
        if isinstance(call, ast.Name) and call.id == name:
            continue  # ``encoder = encoder.to(device)``: the same network
        while isinstance(call, ast.Attribute) and isinstance(call.value, (ast.Call, ast.Attribute)):
            call = call.value  # ``backbone = models.efficientnet_b0(weights=...).features``: a part of one built here
        if not isinstance(call, ast.Call):
            return False
        if norms.frames.names.qualify(call.func) == "copy.deepcopy":
            continue  # teacher = copy.deepcopy(model): a network of its own from then on
        # (``args`` of ``t_net, s_net, args = load_settings(args)`` is rebound by the call, not a network)
        if any(isinstance(sub, ast.Name) and network(sub.id) and not any(v is value for v in knowledge.bindings.get(sub.id, []))
               for arg in [*call.args, *(k.value for k in call.keywords)] for sub in ast.walk(arg)):
            return False
    return True


def _handed_alone(norms: FileNorms, function: ast.AST, name: str, read: set[str]) -> bool:
    """``name`` is a parameter of ``function``, a module-level function the file calls, and
    every call hands it a network built alone (``train_kd(student, teacher)`` with
    ``teacher = resnet56(10)``): ``def train_kd(model_student, model_teacher)`` trains only
    what its own optimisers take."""
    tree = norms.frames.unit.tree
    if tree is None or function not in tree.body or (passed := _passed_at_calls(tree, function, name)) is None:
        return False
    for call, arg in passed:
        if not (isinstance(arg, ast.Name) and built_alone(norms, arg.id) and arg.id not in read
                and not any(related(o, arg.id) for o in norms.optimised)):
            return False
        # (``train_kd(student, student)``: the network the function optimises under another name)
        if any(isinstance(other, ast.Name) and other.id == arg.id and other is not arg for other in call.args) or any(
                isinstance(k.value, ast.Name) and k.value.id == arg.id and k.value is not arg for k in call.keywords):
            return False
    return bool(passed)
