"""GL406: a model only some of whose parts the optimisers take, the rest frozen by omission.

``params = list(img_enc.affine_a.parameters()) + list(img_enc.affine_b.parameters()) +
list(decoder.parameters())`` trains two heads of ``img_enc`` and never its DenseNet: that
backbone's weights stay as they were loaded, but in train mode its BatchNorm statistics
drift. :func:`partly_optimised` finds such a model where every optimiser of the file says
which modules it takes, and where the model's class (read from its source) holds BatchNorm
in a part no optimiser takes."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.freeze_facts import FileNorms, Freeze
from gradlint.source.frames import OptimizerBuilt, file_frames
from gradlint.source.parameter_owners import optimiser_owners
from gradlint.source.names import dotted
from gradlint.source.norm_knowledge import NormKnowledge, unwrap
from gradlint.source.project_classes import ProjectClass
from gradlint.source.unit import SourceUnit


def partly_optimised(norms: FileNorms) -> list[Freeze]:
    """An ``optimizer`` freeze of each plain name whose optimised owners are only some of its
    attributes (``img_enc.affine_a``, ``img_enc.module.affine_b``) when its class keeps
    BatchNorm in an attribute none of them is."""
    knowledge = norms.knowledge
    if knowledge is None or "*" in norms.optimised or norms.moving:
        return []
    built = _optimisers(norms)
    if built is None:
        return []
    parts: dict[str, dict[str, list[str]]] = {}  # model -> attribute -> the owners as written (``.module.`` or not)
    for owner in sorted(norms.optimised):
        root, _, rest = owner.replace(".module.", ".").partition(".")
        if rest and "." not in rest and root != "self":
            parts.setdefault(root, {}).setdefault(rest, []).append(owner)
    tree = norms.frames.unit.tree
    assert tree is not None
    found = []
    for model, attributes in parts.items():
        if model in norms.optimised or any(f.how == "optimizer" and f.target == model for f in norms.freezes):
            continue  # the whole model is optimised too, or the single-part reading has it
        cls = _model_class(knowledge, model)
        if cls is None or not _batchnorm_left_out(cls, set(attributes)):
            continue
        owners = tuple(owner for written in attributes.values() for owner in written)
        node = next((call for call in built if set(owners) & optimiser_owners(call, norms.frames.kinds.frame_of(call) or tree)),
                    None)
        if node is None:
            continue  # (optimised where no optimiser call of the file says so: ``configure_optimizers``' return)
        found.append(Freeze(model, "optimizer", node, owners[0], parts_optimised=owners))
    return found


def _optimisers(norms: FileNorms) -> Optional[list[ast.Call]]:
    """The optimiser calls of the file, when each names the modules it takes; else None."""
    calls = []
    for frame in norms.frames.frames:
        for fact in frame.facts:
            if isinstance(fact, OptimizerBuilt) and isinstance(fact.node, ast.Call):
                if not optimiser_owners(fact.node, frame.node):
                    return None
                calls.append(fact.node)
    return calls or None


def _model_class(knowledge: NormKnowledge, model: str) -> Optional[ProjectClass]:
    """The one project class ``model`` is built from (its bindings in any function; a wrapper
    such as ``nn.DataParallel(img_enc)`` is the same model)."""
    values = [*knowledge.bindings.get(model, []), *(v for names in knowledge.scoped.values() for v in names.get(model, []))]
    classes = {}
    for value in values:
        call = unwrap(value)
        if isinstance(call, ast.Call) and (found := knowledge._built_class(call, dotted(call.func) or "")) is not None:
            classes[(found.path, found.node.name)] = found
    return next(iter(classes.values())) if len(classes) == 1 else None


def _batchnorm_left_out(cls: ProjectClass, optimised: set[str]) -> bool:
    """The class's ``__init__`` builds BatchNorm (read in its own module) into an attribute
    outside ``optimised``, and every one of ``optimised`` is an attribute it assigns."""
    unit = SourceUnit.read_parsed(str(cls.path))  # (its parsed module, read once per change: the reader's frames)
    own = next((node for node in unit.tree.body if isinstance(node, ast.ClassDef) and node.name == cls.node.name),
               None) if unit is not None and unit.tree is not None else None
    init = next((node for node in own.body if isinstance(node, ast.FunctionDef) and node.name == "__init__"),
                None) if own is not None else None
    if unit is None or own is None or init is None:
        return False
    # every ``self.<attribute> = ...`` of ``__init__``, with whether it builds the layer there (a call):
    # ``self.t_net = t_net`` keeps a network handed to it, which the file may optimise under its own name
    assigned: dict[str, bool] = {}
    for node in ast.walk(init):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                    assigned[target.attr] = assigned.get(target.attr, False) or isinstance(node.value, ast.Call)
    if not optimised <= set(assigned):
        return False
    reader = NormKnowledge(file_frames(unit))
    return any(reader.has_batchnorm(f"self.{attribute}", own, init.body[-1])
               for attribute, built in assigned.items() if built and attribute not in optimised)
