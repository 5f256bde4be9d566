"""GL406: a network no optimiser of the file takes, handed to a training class of the
project that runs it in its training loop and never sets its mode (a victim model queried
by a model-stealing trainer, a distillation teacher kept by a ``Distiller``):
``SimCLR(model_to_steal=victim, model=model, optimizer=optimizer).steal(loader)`` with
``optimizer`` over ``model`` only. :func:`gradlint.source.unoptimised_runs.unoptimised_runs`
reads the networks the file's own loops run; this reads those it hands to such a class."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gradlint.source.freeze_facts import FileNorms, Freeze
from gradlint.source.freeze_forms import related
from gradlint.source.index import FileIndex
from gradlint.source.module_runners import class_runs_and_trains, init_of, kept_as, parameter_of
from gradlint.source.names import dotted
from gradlint.source.project_classes import built_class
from gradlint.source.unoptimised_runs import built_alone, known_optimisers, parameters_read

# an optimiser the class builds itself may take what it is handed: then it trains it
_BUILDS_OPTIMISER = re.compile(r"\boptim\.\w+\(|\b(?:Adam|AdamW|SGD|RMSprop|Adagrad|Adadelta|LARS|LAMB)\(")


def handed_to_training_classes(norms: FileNorms) -> list[Freeze]:
    """An ``unoptimised`` freeze at each call building a project training class that is
    handed (by position or keyword) a network built alone in the file, with BatchNorm, that
    no optimiser of the file takes, when every optimiser of the file names what it trains."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    path = Path(norms.frames.unit.path)
    if not path.is_file() or known_optimisers(norms) is None:
        return []
    read = parameters_read(tree, norms.optimised, norms.frames.parents) | {f.target for f in norms.freezes}
    found: dict[str, Freeze] = {}
    index = FileIndex()
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or not (name := dotted(call.func)) or not name[:1].isupper():
            continue
        handed = [node for node in [*call.args, *(k.value for k in call.keywords)] if isinstance(node, ast.Name)
                  and node.id not in found and node.id not in read and not any(related(o, node.id) for o in norms.optimised)]
        if not handed:
            continue
        cls = built_class(call, name, tree, path, index)
        init = init_of(cls.node) if cls is not None else None
        if cls is None or init is None or _BUILDS_OPTIMISER.search(ast.unparse(cls.node)):
            continue
        for node in handed:
            parameter = parameter_of(call, node, init, True)
            runs = class_runs_and_trains(cls.node, parameter) if parameter else None
            kept = kept_as(init, parameter) if parameter else None
            if runs is not None and runs[1] and kept is not None and not _weights_read(cls.node, kept) \
                    and built_alone(norms, node.id) and norms.knowledge.has_batchnorm_there(node.id, call):
                found[node.id] = Freeze(node.id, "unoptimised", call)
    return list(found.values())


def _weights_read(cls: ast.ClassDef, kept: str) -> bool:
    """The class reads or writes the weights of what it keeps (``zip(self.online.parameters(),
    self.target.parameters())``, a ``load_state_dict``): a momentum (EMA) copy or a synced
    network, updated without an optimiser, as BYOL's target is."""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr in _WEIGHT_READS and dotted(node.func.value) == kept for node in ast.walk(cls))


_WEIGHT_READS = frozenset({"parameters", "named_parameters", "state_dict", "load_state_dict", "buffers", "named_buffers"})
