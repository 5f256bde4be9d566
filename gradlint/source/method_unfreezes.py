"""GL406: an unfreeze in a public method of a model class of the file whose ``__init__``
freezes that part (a method the class never calls itself), ``def unfreeze_layers(self,
num_layers=None): if num_layers is None: <all> else: <the last n tensors>``, happens where
the file calls it on an instance:
``model.unfreeze_layers(num_layers=10)`` leaves the early layers frozen, and
``model.unfreeze_layers()`` makes the whole backbone trainable. It is read at those calls,
with the arm each call takes, not as an unfreeze of every instance from the start."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.call_flags import guard_at, guard_flag, guard_of
from gradlint.source.freeze_facts import FileNorms
from gradlint.source.names import dotted

# methods Python or PyTorch call themselves: their unfreezes are not the script's to ask for
_CALLED_BY_TORCH = frozenset({"__init__", "forward", "train", "eval", "__call__"})


def unfreezes_at_calls(norms: FileNorms) -> None:
    """Move each unfreeze of ``self.<part>`` made in a public method to the calls of that
    method on the file's instances of its class, where the call runs it."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    kinds = norms.frames.kinds
    moved: list[tuple[str, ast.Call]] = []
    for target, nodes in list(norms.unfrozen_at.items()):
        if not target.startswith("self."):
            continue
        kept = []
        for node in nodes:
            method, cls = public_method(node, norms), kinds.class_of(node)
            calls = _calls(norms, cls, method.name) \
                if method is not None and cls is not None and _frozen_at_construction(norms, cls, target) else None
            if method is None or calls is None:
                kept.append(node)
                continue
            guard = guard_of(node, method, norms.frames.parents)
            flag = guard_flag(method, guard, method=True) if guard is not None else None
            moved += [(instance + target[len("self"):], call) for call, instance in calls
                      if flag is None or guard_at(call, flag, kinds.frame_of(call), tree) is True]
        if kept:
            norms.unfrozen_at[target] = kept
        else:
            del norms.unfrozen_at[target]
            norms.unfrozen.discard(target)
    for target, call in moved:
        norms.unfreeze(target, call)


def public_method(node: ast.AST, norms: FileNorms) -> Optional[ast.FunctionDef]:
    """The method of a class ``node`` is in, when the class never calls it itself and neither
    Python nor PyTorch does (not ``__init__``, ``forward``, ``train``): whether it runs is the
    caller's to decide."""
    kinds = norms.frames.kinds
    method, cls = kinds.frame_of(node), kinds.class_of(node)
    if not (isinstance(method, ast.FunctionDef) and isinstance(cls, ast.ClassDef) and method in cls.body
            and method.name not in _CALLED_BY_TORCH):
        return None
    called = any(isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == method.name
                 and dotted(call.func.value) == "self" for call in ast.walk(cls))
    return None if called else method


def _frozen_at_construction(norms: FileNorms, cls: ast.ClassDef, target: str) -> bool:
    """A model class whose ``__init__`` freezes ``target`` (the method offers to undo it)."""
    kinds = norms.frames.kinds
    return cls.name in kinds.module_classes and any(
        f.target == target and kinds.class_of(f.node) is cls and getattr(kinds.frame_of(f.node), "name", "") == "__init__"
        for f in norms.freezes)


def _calls(norms: FileNorms, cls: ast.ClassDef, method: str) -> list[tuple[ast.Call, str]] | None:
    """Each ``model.<method>(...)`` of the file, with ``model``, when there is one and every
    call of a method of that name is on a name bound to an instance of ``cls``; else None (a
    helper handed the model may call it, or a script importing the class: unknown here)."""
    assert norms.knowledge is not None and norms.frames.unit.tree is not None
    instances = set(norms.knowledge.instances_of(cls))
    found = []
    for node in ast.walk(norms.frames.unit.tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method:
            receiver = dotted(node.func.value)
            if receiver is None or receiver not in instances:
                return None
            found.append((node, receiver))
    # (called nowhere here: a script importing the class calls it, read there as the module's helper)
    return found or None
