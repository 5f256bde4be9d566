"""A model whose only BatchNorm is the one its factory puts in its head (GL406): MAE's
linear probe builds a ViT and sets ``model.head = nn.Sequential(nn.BatchNorm1d(d,
affine=False), model.head)``, then freezes everything but ``model.head``. The head trains,
and its BatchNorm is meant to follow the batches: nothing frozen holds a BatchNorm."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from gradlint.source.frames import file_frames
from gradlint.source.names import dotted
from gradlint.source.norm_knowledge import NormKnowledge
from gradlint.source.project_functions import project_function
from gradlint.source.reaching_bindings import unwrap
from gradlint.source.unit import SourceUnit

_NORMS = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "BatchNorm")


def norms_only_in_heads(knowledge: NormKnowledge, name: str, at: ast.AST, heads: set[str]) -> bool:
    """``name`` is bound once, where ``at`` reads it, to a project function's model whose
    every BatchNorm is built in an assignment to one of ``heads`` of the returned model
    (``model.head = ...``), the model itself holding none."""
    tree = knowledge.frames.unit.tree
    frame = knowledge.frames.kinds.frame_of(at)
    values = knowledge.scoped.get(frame, {}).get(name) or knowledge.scoped.get(None, {}).get(name) or []
    if tree is None or len(values) != 1 or not isinstance(call := unwrap(values[0]), ast.Call):
        return False
    found = project_function(dotted(call.func) or "", tree, Path(knowledge.frames.unit.path))
    if found is None:
        return False
    function, module_tree, module = found
    returned = {node.value.id for node in ast.walk(function) if isinstance(node, ast.Return)
                and isinstance(node.value, ast.Name)}
    if len(returned) != 1:
        return False
    model = returned.pop()
    norms = [node for node in ast.walk(function) if isinstance(node, ast.Call)
             and (dotted(node.func) or "").rsplit(".", 1)[-1] in _NORMS]
    in_heads = {id(norm) for node in ast.walk(function) if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Attribute) and dotted(t.value) == model and t.attr in heads for t in node.targets)
                for norm in ast.walk(node.value)}
    if not norms or any(id(norm) not in in_heads for norm in norms):
        return False
    reader = knowledge if module is None else _knowledge_of(module)
    ret = next(node for node in ast.walk(function) if isinstance(node, ast.Return))
    return reader is not None and not reader.has_batchnorm(model, None, ret)


def _knowledge_of(module: Path) -> Optional[NormKnowledge]:
    unit = SourceUnit.read_parsed(str(module))
    return NormKnowledge(file_frames(unit)) if unit is not None and unit.tree is not None else None
