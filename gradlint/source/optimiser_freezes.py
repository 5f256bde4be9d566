"""GL406's optimiser facts: which modules the file's optimisers take, also through param
groups, ``configure_optimizers`` and a list built before, and the freeze an optimiser over
one part alone makes of the rest of its model."""

from __future__ import annotations

import ast
import re

from gradlint.source.dead_branches import never_taken
from gradlint.source.frames import FileFrames
from gradlint.source.freeze_facts import FileNorms, Freeze
from gradlint.source.freeze_forms import HEAD_PARTS, only_parameters_of, parameters_of, trainable_only
from gradlint.source.names import classify, dotted
from gradlint.source.parameter_owners import group_params, listed_parameter_owners, optimiser_owners, parameters_owner, parameters_owners


def optimiser_freezes(frames: FileFrames, norms: FileNorms) -> None:
    """The modules each optimiser of the file takes (``norms.optimised``), and a freeze of
    ``X`` where one takes ``X.head.parameters()`` alone: the rest of ``X`` never changes."""
    tree = frames.unit.tree
    assert tree is not None
    for frame in frames.frames:
        built: list[tuple[ast.Call, set[str]]] = []  # each optimiser of the frame and the modules it takes
        for fact in frame.facts:
            owner = getattr(fact, "owner", None) if type(fact).__name__ == "OptimizerBuilt" else None
            node = fact.node
            if isinstance(node, ast.Call) and type(fact).__name__ == "OptimizerBuilt" and not never_taken(
                    node, frames.parents, tree):  # (``Adam(encoder.parameters()) if fine_tune_encoder else None``)
                # (each group's module: ``SGD([{"params": encoder.parameters()}, {"params": fc.parameters()}])``)
                owners = {owner} | optimiser_owners(node, frame.node)  # (also a list built before)
                built.append((node, {o for o in owners if o}))
                norms.optimised.update(o for o in owners if o)
                for o in owners:
                    if o:
                        norms.optimised_at.setdefault(o, []).append(node)
                # (``model.module`` of ``nn.DataParallel(model)`` is the whole model, not a part of it)
                if owner and "." in owner and only_parameters_of(node, owner) and not owner.endswith(".module"):
                    norms.freezes.append(Freeze(owner.rsplit(".", 1)[0], "optimizer", node, owner))
                elif groups := head_groups_of(node):  # ``Adam([{"params": model.fc.parameters()}])``
                    norms.freezes.append(Freeze(groups[0].split(".")[0], "optimizer", node, groups[0],
                                                parts_optimised=groups if len(groups) > 1 else ()))
        for freeze in [f for f in norms.freezes if f.how == "optimizer"]:
            # a head-only warm-up, then ``optimizer = Adam(model.parameters())`` for the fine-tuning after it
            # (one over ``[p for p in model.parameters() if p.requires_grad]`` trains only what is trainable)
            later = [call for call, owners in built if call.lineno > freeze.node.lineno and freeze.target in owners
                     and not trainable_only(call)]
            if later and any(call is freeze.node for call, _ in built):
                norms.unfreeze(freeze.target, later[0])
        for fact in frame.facts:
            if type(fact).__name__ == "ParamGroupAdded":
                # parameters added later: who is optimised is unknown, unless the group reads as a
                # list of one model's parameters (``add_param_group({"params": pg1})``)
                added = _added_owners(fact.node, frame.node)
                norms.optimised.update(added or {"*"})
    for function in ast.walk(tree):  # ``LARS(self.CLR.parameters(), ...)`` in ``configure_optimizers``: an optimiser
        if isinstance(function, ast.FunctionDef) and re.search(r"optim", function.name, re.IGNORECASE):
            norms.optimised.update(
                owner for call in ast.walk(function) if isinstance(call, ast.Call) and call.args
                and isinstance(call.args[0], ast.Call) and (owner := parameters_owner(call.args[0])))
    for asked in ast.walk(tree):  # optimizer = system.configure_optimizers()["optimizer"]: its own optimiser
        if isinstance(asked, ast.Call) and isinstance(asked.func, ast.Attribute) \
                and asked.func.attr == "configure_optimizers" and (owner := dotted(asked.func.value)) not in (None, "self"):
            norms.optimised.add(str(owner))
    for returned in ast.walk(tree):  # ``return Adam(self.student.parameters())`` in configure_optimizers
        if (isinstance(returned, ast.Return) and isinstance(call := returned.value, ast.Call) and call.args
                and classify(frames.names.qualify(call.func)) == "optimizer"
                and not (frames.names.qualify(call.func) or "").endswith("optimizers")):
            norms.optimised.add(parameters_owner(call.args[0]) or "*")


def _added_owners(call: ast.AST, scope: ast.AST) -> set[str]:
    """The modules whose parameters ``opt.add_param_group({"params": ...})`` adds, when known."""
    given = group_params(call.args[0]) if isinstance(call, ast.Call) and len(call.args) == 1 else None
    if given is None:
        return set()
    return parameters_owners(given) or (listed_parameter_owners(given.id, scope) if isinstance(given, ast.Name) else set())


def head_groups_of(call: ast.Call) -> tuple[str, ...]:
    """The parts an optimiser takes when it is given only param groups of one model's head
    (``Adam([{"params": model.fc.parameters(), "lr": 1e-3}])``, also a head and a late stage
    ``model.layer4``): the rest of that model never changes. Empty for any other form."""
    given = call.args[0] if call.args else None
    if not isinstance(given, (ast.List, ast.Tuple)) or not given.elts:
        return ()
    parts = [parameters_of(params) if (params := group_params(group)) is not None else None for group in given.elts]
    # (every part one attribute of the same model, each a head or the last stage: never its stem)
    if not all(part and part.count(".") == 1 and part.split(".")[1] in HEAD_PARTS | {"layer4"} for part in parts) \
            or len({str(part).split(".")[0] for part in parts}) != 1:
        return ()
    return tuple(dict.fromkeys(str(part) for part in parts))
