"""GL406's fact for a frozen model whose mode nothing in the file ever sets: a module is
built in train mode, so a frozen backbone that only runs (``with torch.no_grad(): feats
= backbone(x)``, or frozen by ``requires_grad``) in the training loop updates its
BatchNorm statistics on every batch although nobody calls ``train()``.

Only for a model the file builds itself (a torchvision/timm constructor, a Sequential of
its layers) and never hands to another function or class, which may switch its mode."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.frames import Training
from gradlint.source.freeze_forms import holds, related
from gradlint.source.frozen_norms import FileNorms
from gradlint.source.names import dotted
from gradlint.source.norm_knowledge import unwrap

# what may be done with the model without changing or hiding its mode
_PLAIN_USES = {"to", "cuda", "cpu", "parameters", "named_parameters", "requires_grad_", "state_dict",
               "load_state_dict", "float", "half", "double", "children", "modules"}
_LOOKS = {"print", "len", "str", "repr", "type", "id", "isinstance", "summary"}


def run_in_default_mode(norms: FileNorms, target: str) -> Optional[ast.Call]:
    """The first call of ``target`` (``backbone(x)``) in a training function when the file
    never sets its mode (nor a parent's or a part's) and builds it itself; else None."""
    if "." in target or any(related(m.target, target) or holds(target, m.target) for m in norms.modes):
        return None
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    if not _built_here(norms, target):
        return None
    training = {id(frame.node) for frame in norms.frames.frames if any(isinstance(f, Training) for f in frame.facts)}
    kinds = norms.frames.kinds
    parents = norms.frames.parents
    used: Optional[ast.Call] = None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == target and isinstance(node.ctx, ast.Load)):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Call) and parent.func is node:
            frame = kinds.frame_of(parent) or tree
            if id(frame) in training and (used is None or parent.lineno < used.lineno):
                used = parent
        elif isinstance(parent, ast.Attribute):
            grandparent = parents.get(parent)
            called = isinstance(grandparent, ast.Call) and grandparent.func is parent
            if called and parent.attr not in _PLAIN_USES:
                return None  # backbone.freeze(), backbone.apply(fn): may set its mode
            continue  # backbone.fc = nn.Identity(), backbone.fc.in_features
        elif isinstance(parent, (ast.Subscript, ast.Assign)):
            continue  # backbone = backbone[:-1]
        elif isinstance(parent, ast.Call) and dotted(parent.func) in _LOOKS:
            continue  # print(backbone)
        else:
            return None  # handed to something else (a wrapper, a helper): its mode is not known here
    return used


def _built_here(norms: FileNorms, name: str) -> bool:
    """Every binding of ``name`` builds the model in this file (no project function or
    class of another file, which may put it in eval mode)."""
    assert norms.knowledge is not None
    foreign = norms.knowledge.local_bn_names() | norms.knowledge.bn_functions
    values = norms.knowledge.bindings.get(name, [])
    if not values:
        return False
    for value in values:
        value = unwrap(value)
        while isinstance(value, ast.Subscript):
            value = value.value
        if isinstance(value, ast.Name) and value.id == name:
            continue
        if not isinstance(value, ast.Call) or (dotted(value.func) or "") in foreign:
            return False
    return True
