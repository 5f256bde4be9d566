"""Loops that freeze every module of a list or a container, rather than a prefix of a model
(:mod:`gradlint.source.partial_freezes`): ``for module in [model.down1, model.down2]:``, a list
a model keeps (``for layer in model.base_layers:``), every value of a ``ModuleDict``
(``for teacher in self.teachers.values():``), and the BatchNorm layers' own affine
parameters (``for m in model.modules(): if isinstance(m, nn.BatchNorm2d): ...``)."""

from __future__ import annotations

import ast
from typing import Optional, Union

from gradlint.source.children_views import child_listing
from gradlint.source.freeze_forms import late_slice, requires_grad_value
from gradlint.source.names import dotted

Loop = Union[ast.For, ast.AsyncFor]


def listed_modules(parents: dict, loop: ast.AST, owner: str) -> Optional[list[str]]:
    """The modules a literal list names when ``owner`` is the variable of a loop over it
    around ``loop``: ``for module in [model.down1, model.down2, model.bottle_neck]: for p in
    module.parameters(): ...`` -> those three; else None."""
    outer = parents.get(loop)
    if not (isinstance(outer, (ast.For, ast.AsyncFor)) and isinstance(outer.target, ast.Name) and outer.target.id == owner):
        return None
    listed = _bound_list(parents, outer, outer.iter.id) if isinstance(outer.iter, ast.Name) else outer.iter
    if not (isinstance(listed, (ast.List, ast.Tuple)) and listed.elts):
        return None
    names = [dotted(element) for element in listed.elts]
    return [name for name in names if name] if all(names) else None


def later_items(parents: dict, loop: ast.AST, owner: str) -> Optional[str]:
    """``model.features[6:]`` when ``owner`` is the variable of a loop around ``loop`` over
    the elements of a module from a later one on: ``for block in list(model.features)[6:]:
    for p in block.parameters(): p.requires_grad = True``; else None."""
    outer = parents.get(loop)
    if not (isinstance(outer, (ast.For, ast.AsyncFor)) and isinstance(outer.target, ast.Name)
            and outer.target.id == owner and isinstance(it := outer.iter, ast.Subscript)):
        return None
    sliced = it.value
    if isinstance(sliced, ast.Call) and dotted(sliced.func) == "list" and len(sliced.args) == 1:
        sliced = sliced.args[0]  # list(model.features)[6:]
    later = late_slice(ast.Subscript(value=sliced, slice=it.slice, ctx=ast.Load()))
    return later if later is not None and later.endswith(":]") and "[-" not in later else None


def _bound_list(parents: dict, loop: ast.AST, name: str) -> Optional[ast.expr]:
    """The list literal ``name`` is bound to once in the function around ``loop``
    (``layers_to_freeze = [self.model.conv1, self.model.bn1, self.model.layer1]``)."""
    scope = parents.get(loop)
    while scope is not None and not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        scope = parents.get(scope)
    if scope is None:
        return None
    bound = [node.value for node in ast.walk(scope) if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
    return bound[0] if len(bound) == 1 else None


def listed_attribute(parents: dict, loop: ast.AST, owner: str) -> Optional[tuple[str, str]]:
    """The model and the part named when ``owner`` is the variable of a loop around ``loop``
    over a list a model keeps: ``for layer in model.base_layers: for p in layer.parameters():
    ...`` (``self.base_layers = list(self.base_model.children())``) -> ``("model", "the
    layers in `model.base_layers`")``; else None."""
    outer = parents.get(loop)
    if not (isinstance(outer, (ast.For, ast.AsyncFor)) and isinstance(outer.target, ast.Name) and outer.target.id == owner
            and isinstance(outer.iter, ast.Attribute) and (held := dotted(outer.iter)) and "." in held):
        return None
    return held.rsplit(".", 1)[0], f"the layers in `{held}`"


def valued_attribute(parents: dict, loop: ast.AST, owner: str) -> Optional[str]:
    """The module whose every member ``owner`` takes in turn when it is the variable of a loop
    around ``loop`` (``loop`` straight in its body, under no condition): ``for teacher in
    self.teachers.values(): for p in teacher.parameters(): ...`` (or ``.items()``) freezes every
    module ``self.teachers`` holds, so ``self.teachers``; ``for name, m in
    backbone.named_modules():`` (or ``modules()``, ``children()``, ``named_children()``) freezes
    all of ``backbone``; else None."""
    outer = parents.get(loop)
    if not isinstance(outer, (ast.For, ast.AsyncFor)) or loop not in outer.body or not isinstance(call := outer.iter, ast.Call) \
            or not isinstance(call.func, ast.Attribute) or call.args or (held := dotted(call.func.value)) is None:
        return None
    target = outer.target
    if call.func.attr in ("values", "modules", "children") and isinstance(target, ast.Name) and target.id == owner:
        return held
    if (call.func.attr in ("items", "named_modules", "named_children") and isinstance(target, ast.Tuple)
            and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name) and target.elts[1].id == owner):
        return held
    return None


_NORM_TYPES = ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "_BatchNorm")


def batchnorm_affine_freeze(loop: Loop) -> Optional[str]:
    """The model of ``for m in model.modules(): if isinstance(m, nn.BatchNorm2d):
    m.weight.requires_grad = False; m.bias.requires_grad = False`` (or ``m.requires_grad_(False)``,
    or a loop over ``m.parameters()``): every BatchNorm layer's parameters frozen, its
    running statistics still updated in train mode. None for any other loop."""
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "modules"
            and not it.args and isinstance(loop.target, ast.Name) and (owner := dotted(it.func.value))):
        return None
    layer = loop.target.id
    for stmt in loop.body:
        if not (isinstance(stmt, ast.If) and isinstance(call := stmt.test, ast.Call) and dotted(call.func) == "isinstance"
                and len(call.args) == 2 and isinstance(call.args[0], ast.Name) and call.args[0].id == layer
                and all((dotted(t) or "").rpartition(".")[2] in _NORM_TYPES
                        for t in (call.args[1].elts if isinstance(call.args[1], ast.Tuple) else [call.args[1]]))):
            continue
        frozen = set()
        for inner in ast.walk(ast.Module(stmt.body, [])):
            if isinstance(inner, ast.Assign) and requires_grad_value(inner, f"{layer}.weight") is False:
                frozen.add("weight")
            if isinstance(inner, ast.Assign) and requires_grad_value(inner, f"{layer}.bias") is False:
                frozen.add("bias")
            if isinstance(inner, ast.Expr) and requires_grad_value(inner, layer) is False:
                frozen |= {"weight", "bias"}  # m.requires_grad_(False)
            if isinstance(inner, ast.For) and child_listing(inner.iter) == ("parameters", layer) and isinstance(inner.target, ast.Name) \
                    and any(requires_grad_value(s, inner.target.id) is False for s in inner.body):
                frozen |= {"weight", "bias"}
        if frozen == {"weight", "bias"}:
            return owner
    return None


def eval_undone_later(loop: Loop, owner: str, parents: dict) -> bool:
    """``for m in model.modules(): if BN: m.eval(); <freeze m>`` run once (in no loop), then
    ``model.train()`` inside a later loop of the same function (the epoch loop) with no
    BatchNorm eval after it there: the eval is undone at the first epoch and the frozen
    layers' statistics drift from then on."""
    frame, inside = parents.get(loop), False
    while frame is not None and not isinstance(frame, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        inside = inside or isinstance(frame, (ast.For, ast.AsyncFor, ast.While))
        frame = parents.get(frame)
    if frame is None or inside:
        return False
    end = loop.end_lineno or loop.lineno
    for later in ast.walk(frame):
        if not (isinstance(later, (ast.For, ast.AsyncFor, ast.While)) and later.lineno > end):
            continue
        trains = [c for c in ast.walk(later) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
                  and c.func.attr == "train" and dotted(c.func.value) == owner
                  and not (c.args and isinstance(c.args[0], ast.Constant) and c.args[0].value is False)]
        evals = [c for c in ast.walk(later) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
                 and c.func.attr in ("eval", "apply") and dotted(c.func.value) != owner]
        if trains and not any(e.lineno > trains[0].lineno for e in evals):
            return True
    return False
