"""A local model a function or ``__init__`` froze and then kept in a module it builds or
returns (GL406): ``self.google = FeatureExtractor(google, "avgpool")`` in ``__init__``, or
``model = Dual(backbone=backbone)`` returned by a factory. The frozen part is the
attribute that keeps it (``.google``, ``.backbone``)."""

from __future__ import annotations

import ast
from typing import Optional, TypeVar

from gradlint.source.freeze_forms import keeps_bn_in_eval
from gradlint.source.function_values import own_nodes
from gradlint.source.names import dotted
from gradlint.source.reaching_bindings import unwrap

_Held = TypeVar("_Held")


def kept_in_self(init: ast.FunctionDef, target: str) -> Optional[str]:
    """``self.resnet`` (and the rest of ``target``) when ``__init__`` keeps the local model
    ``target`` names as an attribute, itself (``self.resnet = resnet``) or wrapped in a
    module built with it (``self.resnet = FeatureExtractor(resnet, "avgpool")``); None
    unless exactly one attribute keeps it."""
    root, dot, rest = target.partition(".")
    kept = []
    for node in ast.walk(init):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)
                and dotted(node.targets[0].value) == "self"):
            continue
        value = unwrap(node.value)
        given = [value] if isinstance(value, ast.Name) else [*value.args, *(k.value for k in value.keywords)] if (
            isinstance(value, ast.Call) and not (dotted(value.func) or "").startswith(("torch.", "nn."))) else []
        if any(isinstance(arg, ast.Name) and arg.id == root for arg in given):
            kept.append(f"self.{node.targets[0].attr}")
    return kept[0] + dot + rest if len(kept) == 1 else None


def spliced_in_self(init: ast.FunctionDef, target: str) -> Optional[tuple[str, int]]:
    """(``self.model``, its line) when ``__init__`` builds ``self.model = nn.Sequential(*list(features.children()),
    <new layers>)`` (or with ``features`` itself, or a slice of its children) from the local
    model ``target`` names beside layers of its own: its first elements are that model's
    layers; None unless exactly one attribute takes them."""
    root = target.partition(".")[0]
    kept = []
    for node in ast.walk(init):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)
                and dotted(node.targets[0].value) == "self" and isinstance(value := unwrap(node.value), ast.Call)
                and (dotted(value.func) or "").split(".")[-1] == "Sequential"):
            continue
        # (or the frozen part itself, or a part of it: ``nn.Sequential(efficientnet.features, efficientnet.avgpool)``
        # with ``efficientnet.features`` frozen)
        spliced = [arg for arg in value.args if _spliced_from(arg) == root or (held := dotted(arg))
                   and (held == target or held.startswith(target + "."))]
        # (a Sequential of nothing but those layers is the frozen model itself, read as such elsewhere)
        if spliced and len(spliced) < len(value.args):
            kept.append((f"self.{node.targets[0].attr}", node.lineno))
    for node in ast.walk(init):  # self.blocks = nn.ModuleList(blocks), every block of ``blocks`` one of root's
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)
                and dotted(node.targets[0].value) == "self" and isinstance(value := unwrap(node.value), ast.Call)
                and (dotted(value.func) or "").split(".")[-1] in ("Sequential", "ModuleList") and len(value.args) == 1
                and isinstance(listed := value.args[0].value if isinstance(value.args[0], ast.Starred) else value.args[0],
                               ast.Name) and _listed_from(init, listed.id) == root):
            kept.append((f"self.{node.targets[0].attr}", node.lineno))
    return kept[0] if len(kept) == 1 else None


def attribute_alias(init: ast.FunctionDef, target: str) -> str:
    """``efficientnet.features.0`` for ``feature_blocks.0`` when ``init`` binds the local
    ``feature_blocks`` once, to ``efficientnet.features`` (a part of another local model);
    else ``target``."""
    root, dot, rest = target.partition(".")
    bound = [node.value for node in ast.walk(init) if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == root for t in node.targets)]
    if len(bound) != 1 or not isinstance(bound[0], ast.Attribute):
        return target
    aliased = dotted(bound[0])
    return aliased + dot + rest if aliased and not aliased.startswith("self.") else target


def layers_taken(init: ast.FunctionDef, cls: ast.ClassDef, target: str) -> list[str]:
    """The attributes ``__init__`` sets to layers of the local model ``target`` one by one
    (``self.Conv2d_1a_3x3 = model.Conv2d_1a_3x3``, ...), itself or in a method it hands the
    model to (``self.define_module(model)``)."""
    root = target.partition(".")[0]
    bodies: list[tuple[ast.FunctionDef, str]] = [(init, root)]
    methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}
    for call in ast.walk(init):
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and dotted(call.func.value) == "self"
                and (method := methods.get(call.func.attr)) is not None and len(call.args) == 1
                and isinstance(call.args[0], ast.Name) and call.args[0].id == root and len(method.args.args) == 2):
            bodies.append((method, method.args.args[1].arg))
    taken = []
    for body, name in bodies:
        for node in ast.walk(body):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)
                    and dotted(node.targets[0].value) == "self" and isinstance(node.value, ast.Attribute)
                    and isinstance(node.value.value, ast.Name) and node.value.value.id == name):
                taken.append(node.targets[0].attr)
    return taken


def layers_handed(init: ast.FunctionDef) -> Optional[tuple[int, str, list[str]]]:
    """(position in a call, name, ``[]``) of the one ``__init__`` parameter whose layers the
    instance keeps one by one (``def __init__(self, size, inception): self.Conv2d_1a_3x3 =
    inception.Conv2d_1a_3x3; self.Mixed_5b = inception.Mixed_5b ...``, at least two); else None."""
    params = [a.arg for a in init.args.args[1:]]
    counts: dict[str, int] = {}
    for node in ast.walk(init):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute)
                and dotted(node.targets[0].value) == "self" and isinstance(node.value, ast.Attribute)
                and isinstance(node.value.value, ast.Name) and node.value.value.id in params):
            counts[node.value.value.id] = counts.get(node.value.value.id, 0) + 1
    taken = [name for name, count in counts.items() if count > 1]
    return (params.index(taken[0]), taken[0], []) if len(taken) == 1 else None


def _listed_from(init: ast.FunctionDef, name: str) -> Optional[str]:
    """The local model every layer of the list ``name`` comes from: ``blocks = []``, then
    ``blocks.append(nn.Sequential(*list(resnet.children())[:3]))`` and ``for layer in
    resnet.children(): blocks.append(layer)``; else None."""
    bound = [node.value for node in ast.walk(init) if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
    if len(bound) != 1 or not (isinstance(bound[0], ast.List) and not bound[0].elts):
        return None
    loops = {node.target.id: node.iter for node in ast.walk(init)
             if isinstance(node, ast.For) and isinstance(node.target, ast.Name)}
    loops.update((node.target.elts[-1].id, node.iter.args[0]) for node in ast.walk(init)  # for i, layer in enumerate(...)
                 if isinstance(node, ast.For) and isinstance(node.target, ast.Tuple) and len(node.target.elts) == 2
                 and isinstance(node.target.elts[-1], ast.Name) and isinstance(node.iter, ast.Call)
                 and dotted(node.iter.func) == "enumerate" and node.iter.args)
    roots: set[Optional[str]] = set()
    for node in ast.walk(init):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and dotted(node.func.value) == name:
            if node.func.attr != "append" or len(node.args) != 1:
                return None
            added = node.args[0]
            if isinstance(added, ast.Name) and added.id in loops:  # for layer in resnet.children(): blocks.append(layer)
                roots.add(_spliced_from(loops[added.id]))
            elif isinstance(added, ast.Call) and (dotted(added.func) or "").split(".")[-1] == "Sequential" and added.args:
                roots.update(_spliced_from(arg) for arg in added.args)
            else:
                roots.add(_spliced_from(added))
    return next(iter(roots)) if len(roots) == 1 else None


def _spliced_from(arg: ast.expr) -> Optional[str]:
    """``features`` for ``*list(features.children())[:-1]``, ``*features`` or ``features``."""
    inner = arg.value if isinstance(arg, ast.Starred) else arg
    while isinstance(inner, ast.Subscript):  # list(features.children())[:-1]
        inner = inner.value
    if isinstance(inner, ast.Call) and dotted(inner.func) == "list" and len(inner.args) == 1:
        inner = inner.args[0]
    if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "children":
        inner = inner.func.value
    return inner.id if isinstance(inner, ast.Name) else None


def returned_holder(function: ast.FunctionDef, name: str, returned: dict[str, Optional[int]],
                     tree: ast.Module) -> Optional[tuple[str, str]]:
    """(the returned name, the attribute) when ``function`` returns an instance of a class of
    the module built with ``name`` (``model = Dual(backbone=backbone, ...)``) and the class's
    ``__init__`` keeps that argument as ``self.<attribute>``; every such construction agrees.
    None when the class's ``train()`` puts a part back in eval."""
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    found: set[tuple[str, str]] = set()
    for node in ast.walk(function):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in returned and isinstance(node.value, ast.Call)):
            continue
        cls = classes.get(dotted(node.value.func) or "")
        init = next((item for item in cls.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"),
                    None) if cls is not None else None
        if cls is not None and keeps_bn_in_eval(cls):
            return None  # its train() puts the part back in eval
        params = [a.arg for a in init.args.args[1:]] if init is not None else []
        passed = [params[index] for index, arg in enumerate(node.value.args)
                  if index < len(params) and isinstance(arg, ast.Name) and arg.id == name]
        passed += [k.arg for k in node.value.keywords if k.arg in params and isinstance(k.value, ast.Name)
                   and k.value.id == name]
        kept = [attribute for parameter in passed for attribute in kept_as(init, parameter)] if init else []
        if len(kept) == 1:
            found.add((node.targets[0].id, kept[0]))
    return found.pop() if len(found) == 1 else None


def kept_as(init: ast.FunctionDef, parameter: str) -> list[str]:
    """The attributes ``__init__`` sets to the parameter itself (``self.backbone = backbone``)."""
    return [target.attr for node in ast.walk(init) if isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.value, ast.Name) and node.value.id == parameter
            and isinstance(target := node.targets[0], ast.Attribute) and dotted(target.value) == "self"]


def local_aliases(function: ast.FunctionDef, held: dict[str, _Held]) -> dict[str, _Held]:
    """``model, criterion = self.model, self.criterion`` (or ``model = self.model``,
    ``target_model = model``): local names for what ``held`` holds, bound once in the function."""
    bound: dict[str, list[Optional[str]]] = {}
    for node in own_nodes(function):
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        pairs = (list(zip(target.elts, value.elts)) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                 and len(target.elts) == len(value.elts) else [(target, value)])
        for name, source in pairs:
            if isinstance(name, ast.Name):  # (``net = self.model.to(device)``)
                held_name = dotted(unwrap(source))
                bound.setdefault(name.id, []).append(held_name if held_name in held else None)
    # (bound once, or to the same one in each arm: ``cmodel = torch.compile(model)`` on resuming and not)
    return {name: held[values[0]] for name, values in bound.items()
            if values[0] is not None and all(v == values[0] for v in values) and name not in held}
