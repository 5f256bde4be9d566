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

from gradlint.source.frames import OptimizerBuilt, Training, optimiser_owners
from gradlint.source.freeze_facts import MODULE_METHODS, FileNorms, Freeze
from gradlint.source.freeze_forms import related
from gradlint.source.names import classify, dotted
from gradlint.source.norm_knowledge import unwrap

# a call that may build or hand over an optimiser gradlint does not read
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
    optimisers = _known_optimisers(norms)
    if optimisers is None:
        return []
    found: dict[str, Freeze] = {}
    read = _parameters_read(tree) | {f.target for f in norms.freezes}  # (frozen already: that freeze is read)
    for frame in frames.frames:
        if not any(isinstance(f, Training) and f.what == "backward" for f in frame.facts):
            continue
        for call in sorted((n for n in ast.walk(frame.node) if isinstance(n, ast.Call) and _run_name(n) is not None),
                           key=lambda n: (n.lineno, n.col_offset)):
            name = _run_name(call)
            assert name is not None
            if (name in found or name in read or (frames.kinds.frame_of(call) or tree) is not frame.node
                    or frames.innermost_loop(call, frame.node) is None or not _built_alone(norms, name)
                    or any(related(o, name) for o in norms.optimised)):
                continue
            if norms.knowledge.has_batchnorm_there(name, call):
                found[name] = Freeze(name, "unoptimised", call)
    return list(found.values())


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


def _known_optimisers(norms: FileNorms) -> Optional[set[str]]:
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
        if id(node) not in nodes and (classify(callee) == "optimizer" or _OPTIMISER_MAKER.search(callee.rsplit(".", 1)[-1])):
            return None
        if isinstance(node.func, ast.Attribute) and node.func.attr == "step" and not node.args:
            receiver = dotted(node.func.value)
            if receiver not in built and names.kind_of(receiver) not in ("scheduler", "scaler", None):
                return None
    return built


def _parameters_read(tree: ast.Module) -> set[str]:
    """Names whose parameters (or state) the file reads anywhere: they may be optimised,
    clipped or frozen in ways this reading does not follow; and names synced from another
    network (``target_net.load_state_dict(policy_net.state_dict())``, a DQN's target)."""
    read = {node.value.id for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and node.attr in _PARAMETER_READS and isinstance(node.value, ast.Name)}
    synced = {call.func.value.id for call in ast.walk(tree) if isinstance(call, ast.Call)
              and isinstance(call.func, ast.Attribute) and call.func.attr == "load_state_dict"
              and isinstance(call.func.value, ast.Name)
              and any(isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)
                      and inner.func.attr == "state_dict" for arg in call.args for inner in ast.walk(arg))}
    return read | synced


def _built_alone(norms: FileNorms, name: str) -> bool:
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

    for value in values:
        bound = norms.frames.parents.get(value)
        if not (isinstance(bound, ast.Assign) and len(bound.targets) == 1 and dotted(bound.targets[0]) == name):
            return False  # model, loss, optimizer = create_model(): one of several things a call returns
        value = unwrap(value)
        if not isinstance(value, ast.Call):
            return False
        if any(isinstance(sub, ast.Name) and network(sub.id)
               for arg in [*value.args, *(k.value for k in value.keywords)] for sub in ast.walk(arg)):
            return False
    return True
