"""GL406: what the parts of a project class's instance hold, read from the class: whether an
optimiser taking some parts leaves any BatchNorm out (``Adam(model.eeg.parameters())`` with
the other part a library model without BatchNorm leaves none), and whether an attribute is
one the class builds itself."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from gradlint.source.class_attribute_values import self_attribute_values
from gradlint.source.freeze_facts import FileNorms, Freeze
from gradlint.source.held_locals import kept_as
from gradlint.source.index import FileIndex
from gradlint.source.names import dotted
from gradlint.source.project_classes import built_class, kept_from_parameter
from gradlint.source.reaching_bindings import unwrap


def built_in_class(cls: ast.ClassDef, attribute: str) -> bool:
    """``self.<attribute>`` is bound in the class, every time to a call (not to what a
    parameter of ``__init__`` hands in, which only its instance's construction tells)."""
    values = [node.value for node in ast.walk(cls) if isinstance(node, ast.Assign)
              for target in node.targets for element in (target.elts if isinstance(target, ast.Tuple) else [target])
              if dotted(element) == f"self.{attribute}"]
    return bool(values) and all(isinstance(value, ast.Call) for value in values) \
        and kept_from_parameter(cls, attribute) is None


def only_part(norms: FileNorms, target: str, part: Optional[str]) -> bool:
    """The optimised ``part`` (``self.model.fc``) is the only module the class of
    ``target`` holds (``class CNN: self.fc = Classifier(n)``): nothing is left out."""
    assert norms.knowledge is not None
    if part is None or not part.startswith(target + ".") or "." in part[len(target) + 1:]:
        return False
    tree = norms.frames.unit.tree
    assert tree is not None
    values = [unwrap(value) for value in norms.knowledge.bindings.get(target, [])]
    if not values or not all(isinstance(value, ast.Call) for value in values):
        return False
    index = FileIndex()
    for value in values:
        assert isinstance(value, ast.Call)
        found = built_class(value, dotted(value.func) or "", tree, Path(norms.frames.unit.path), index)
        if found is None or module_attributes(found.node) | _kept_arguments(found.node) != {part[len(target) + 1:]}:
            return False
    return True


def norms_only_optimised(norms: FileNorms, freeze: Freeze, target: str) -> bool:
    """Every BatchNorm of ``target``, an instance of a project class built where the
    optimiser is, is in the parts the optimiser takes: ``Adam(model.eeg.parameters())`` with
    the class's other part a library model without BatchNorm (``self.clip_model =
    open_clip.create_model(name)``) leaves no frozen BatchNorm behind."""
    assert norms.knowledge is not None
    frame_of = norms.frames.kinds.frame_of
    optimised = {part for part in (freeze.except_, *freeze.parts_optimised) if part}
    if not optimised or not all(part.startswith(target + ".") for part in optimised):
        return False
    values = [unwrap(value) for value in norms.knowledge.bindings.get(target, [])
              if frame_of(value) is frame_of(freeze.node)]
    tree = norms.frames.unit.tree
    assert tree is not None
    index = FileIndex()
    if not values:
        return False
    kept = {part[len(target) + 1:].split(".")[0] for part in optimised}
    for value in values:
        found = built_class(value, dotted(value.func) or "", tree, Path(norms.frames.unit.path), index) \
            if isinstance(value, ast.Call) else None
        if found is None:
            return False
        # (every attribute, also one kept from another model's part: ``self.features = vgg.features``)
        others = set(self_attribute_values(found.node)) - kept
        if not kept <= module_attributes(found.node) or _kept_arguments(found.node) - kept \
                or any(norms.knowledge.has_batchnorm_there(f"{target}.{other}", freeze.node) for other in others):
            return False
    return True


def module_attributes(cls: ast.ClassDef) -> set[str]:
    """The ``self.<name>`` attributes a class assigns a call (its layers and parts)."""
    return {name for name, values in self_attribute_values(cls).items()
            if any(isinstance(value, ast.Call) for value in values)}


def _kept_arguments(cls: ast.ClassDef) -> set[str]:
    """The ``self.<name>`` attributes ``__init__`` keeps a parameter in (``self.encoder = encoder``)."""
    init = next((item for item in cls.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)
    return {attribute for a in init.args.args[1:] for attribute in kept_as(init, a.arg)} if init is not None else set()
