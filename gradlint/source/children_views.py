"""How code names a model's children (GL406's freeze readers): ``list(model.children())``,
``model.features`` iterated layer by layer, a ``Sequential`` built from another model's
children (``nn.Sequential(*list(model.children())[:-3])``), and a ``ModuleList`` kept from a
list of blocks."""

from __future__ import annotations

import ast
from typing import Callable, Optional, Union

from gradlint.source.names import dotted

Loop = Union[ast.For, ast.AsyncFor]
# a prefix shorter than this may hold no BatchNorm (a ResNet's first parameter is conv1.weight)
SHORTEST = {"parameters": 3, "children": 2}
NOUNS = {"parameters": "parameter tensors", "children": "child modules"}


def child_listing(node: ast.expr) -> Optional[tuple[str, str]]:
    """``list(model.parameters())`` -> ("parameters", "model"); ``model.children()`` and
    ``model.features`` (a Sequential iterated layer by layer) -> ("children", ...)."""
    if isinstance(node, ast.Call) and dotted(node.func) in ("list", "tuple") and len(node.args) == 1:
        node = node.args[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
        owner = dotted(node.func.value)
        kind = {"parameters": "parameters", "children": "children"}.get(node.func.attr)
        return (kind, owner) if kind and owner else None
    owner = dotted(node) if isinstance(node, ast.Attribute) else None
    return ("children", owner) if owner else None


def layer_listing(node: ast.expr) -> Optional[str]:
    """The model whose layers ``node`` lists: ``list(model.children())[:7]``,
    ``model.modules()``, ``model.features[:10]``; else None."""
    while isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        node = node.value
    if isinstance(node, ast.Call) and dotted(node.func) in ("list", "tuple") and len(node.args) == 1:
        node = node.args[0]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("children", "modules", "named_children", "named_modules")):
        return dotted(node.func.value)
    return None


def children_owner(node: ast.expr) -> Optional[ast.expr]:
    """The model ``list(model.children())`` (or ``model.children()``) lists; else None."""
    if isinstance(node, ast.Call) and dotted(node.func) in ("list", "tuple") and len(node.args) == 1:
        node = node.args[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "children" and not node.args:
        return node.func.value
    return None


def sequential_view(loop: Loop, name: str, scope: ast.AST, frame_of: Callable[[ast.AST], Optional[ast.AST]]
                    ) -> Optional[tuple[str, Optional[str]]]:
    """``trunk = nn.Sequential(*list(model.children())[:-3])``, then ``for p in
    trunk.parameters(): <freeze p>``: the Sequential holds ``model``'s own children, so the
    loop freezes those of ``model`` -> (``model``, which part: None for all of them). Only
    when ``trunk`` is used for nothing else: a Sequential of another model's layers that is
    itself run (``self.encoder = nn.Sequential(*list(resnet.children())[:-1])``) is the model."""
    binds = [node for node in ast.walk(scope) if isinstance(node, ast.Assign) and len(node.targets) == 1
             and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name and frame_of(node) is frame_of(loop)]
    if len(binds) != 1 or binds[0].lineno >= loop.lineno or (view := children_sequential(binds[0].value)) is None:
        return None
    owner, bound, part = *view, None
    if bound is not None:
        end = integer(bound.upper) if from_start(bound) else None
        if end is None or 0 <= end < SHORTEST["children"]:
            return None
        part = f"all but its last {-end} {NOUNS['children']}" if end < 0 else f"its first {end} {NOUNS['children']}"
    uses = [node for node in ast.walk(scope) if isinstance(node, ast.Name) and node.id == name
            and isinstance(node.ctx, ast.Load) and frame_of(node) is frame_of(loop)]
    if any(not (loop.iter.lineno <= use.lineno <= (loop.iter.end_lineno or loop.iter.lineno)) for use in uses):
        return None
    return owner, part


def children_sequential(value: ast.expr) -> Optional[tuple[str, Optional[ast.Slice]]]:
    """``nn.Sequential(*list(model.children())[:-3])`` -> (``model``, its slice; None: all children)."""
    if not (isinstance(value, ast.Call) and (dotted(value.func) or "").rpartition(".")[2] == "Sequential"
            and len(value.args) == 1 and not value.keywords and isinstance(value.args[0], ast.Starred)):
        return None
    listed = value.args[0].value
    bound: Optional[ast.Slice] = None
    if isinstance(listed, ast.Subscript) and isinstance(listed.slice, ast.Slice):
        bound = listed.slice
        listed = listed.value
    listing = child_listing(listed) if not isinstance(listed, ast.Attribute) else None
    return (listing[1], bound) if listing is not None and listing[0] == "children" else None


def from_start(bound: ast.Slice) -> bool:
    """``[:n]`` or ``[0:n]``, step 1."""
    return (bound.lower is None or integer(bound.lower) == 0) and bound.step is None


def integer(node: Optional[ast.expr]) -> Optional[int]:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        value = node.operand.value
        return -value if isinstance(value, int) and not isinstance(value, bool) else None
    return None


def kept_list_owner(loop: Loop, owner: str, parents: dict, frame_of: Callable[[ast.AST], Optional[ast.AST]],
                    tree: ast.Module) -> Optional[str]:
    """``for bl in blocks: for p in bl.parameters(): <freeze p>`` with ``self.blocks =
    nn.ModuleList(blocks)`` (or ``nn.Sequential(*blocks)``) in the same function: the loop
    freezes every module ``self.blocks`` holds, so it freezes ``self.blocks``."""
    outer = parents.get(loop)
    while outer is not None and not isinstance(outer, (ast.For, ast.AsyncFor, ast.FunctionDef, ast.Module)):
        outer = parents.get(outer)
    if not (isinstance(outer, (ast.For, ast.AsyncFor)) and isinstance(outer.target, ast.Name)
            and outer.target.id == owner and isinstance(outer.iter, ast.Name)):
        return None
    listed = outer.iter.id
    scope = frame_of(outer) or tree
    for node in ast.walk(scope):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call)
                and (dotted(node.value.func) or "").rpartition(".")[2] in ("ModuleList", "Sequential")
                and len(node.value.args) == 1 and frame_of(node) is frame_of(outer)):
            continue
        arg = node.value.args[0]
        arg = arg.value if isinstance(arg, ast.Starred) else arg
        if isinstance(arg, ast.Name) and arg.id == listed and (kept := dotted(node.targets[0])):
            return kept
    return None


def children_view_of(value: ast.expr) -> Optional[str]:
    """The module whose own children ``value`` holds: ``nn.Sequential(*list(model.children())[:-2])``
    -> ``model`` (the Sequential shares its layers and so its parameters)."""
    view = children_sequential(value)
    return view[0] if view is not None else None
