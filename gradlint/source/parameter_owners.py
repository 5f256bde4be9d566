"""Whose parameters an expression holds (GL406's and the optimiser rules' reading of
``model.parameters()``): ``a.b.parameters()``, a comprehension over several modules'
parameters, a list built before an optimiser and handed to it, and the owners of what an
optimiser takes."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.modules import frame_nodes
from gradlint.source.names import dotted


def parameters_owner(node: ast.AST) -> Optional[str]:
    """``model`` when ``node`` takes the parameters of one module only (``model.parameters()``,
    a filter or comprehension over it, ``[{"params": model.parameters()}]``)."""
    owners = {
        dotted(sub.func.value)
        for sub in ast.walk(node)
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
        and sub.func.attr in ("parameters", "named_parameters")
    }
    return owners.pop() if len(owners) == 1 and None not in owners else None


def parameters_owners(node: ast.AST, scope: Optional[ast.AST] = None) -> set[str]:
    """Every module whose parameters ``node`` takes (``[{"params": encoder.parameters()},
    {"params": fc.parameters()}]`` -> ``encoder`` and ``fc``). A comprehension's own variable
    (``[p for m in decoder_parts for p in m.parameters()]``) stands for the modules of the
    literal it runs over (also a name ``scope`` binds once to one), for the model whose
    children or modules it runs over, or else for unknown modules (``"*"``)."""
    looped: dict[str, Optional[list[str]]] = {}  # comprehension variable -> the modules it takes
    for sub in ast.walk(node):
        if isinstance(sub, ast.comprehension):
            target = sub.target.elts[-1] if isinstance(sub.target, ast.Tuple) and sub.target.elts else sub.target
            if isinstance(target, ast.Name):
                looped[target.id] = _looped_modules(sub, scope)
    owners: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) \
                and sub.func.attr in ("parameters", "named_parameters") and (owner := dotted(sub.func.value)):
            root, _, rest = owner.partition(".")
            if root in looped:
                modules = looped[root]
                owners |= {f"{module}.{rest}" if rest else module for module in modules} if modules else {"*"}
            else:
                owners.add(owner)
    return owners


def _looped_modules(loop: ast.comprehension, scope: Optional[ast.AST]) -> Optional[list[str]]:
    """The modules a comprehension's variable takes in turn, as :func:`parameters_owners` reads them."""
    listed = loop.iter
    if isinstance(listed, ast.Name) and scope is not None:
        bound = [n.value for n in frame_nodes(scope) if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == listed.id for t in n.targets)]
        listed = bound[0] if len(bound) == 1 else listed
    if isinstance(listed, (ast.List, ast.Tuple)):
        names = [dotted(element) for element in listed.elts]
        return [str(n) for n in names] if names and all(names) else None
    paired = isinstance(loop.target, ast.Tuple)  # ``for _, m in model.named_children()``
    if (isinstance(listed, ast.Call) and isinstance(listed.func, ast.Attribute) and not listed.args
            and listed.func.attr in (("named_children", "named_modules") if paired else ("children", "modules"))
            and (owner := dotted(listed.func.value))):
        return [owner]  # every child (or module) of the model: all of it
    return None


def _every_parameter_of(append: ast.AST, value: ast.AST, loop: Optional[ast.AST]) -> Optional[str]:
    """The module whose every parameter ``append`` adds: ``value`` is the variable of the loop
    around it over ``model.named_parameters()`` (or ``parameters()``), alone or as a param
    group's ``"params"``, and no ``if`` between them skips any (an ``else`` adding too)."""
    if isinstance(value, ast.Dict):
        value = group_params(value) or value
    if not (isinstance(loop, ast.For) and isinstance(value, ast.Name) and isinstance(it := loop.iter, ast.Call)
            and isinstance(it.func, ast.Attribute) and it.func.attr in ("parameters", "named_parameters")):
        return None
    target = loop.target.elts[-1] if isinstance(loop.target, ast.Tuple) and loop.target.elts else loop.target
    if not (isinstance(target, ast.Name) and target.id == value.id):
        return None
    def appends(body: list[ast.stmt]) -> bool:
        return any(isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "append"
                   for stmt in body for inner in ast.walk(stmt))
    for node in ast.walk(loop):
        if isinstance(node, ast.If) and any(inner is append for inner in ast.walk(node)) \
                and not (appends(node.body) and appends(node.orelse)):
            return None  # ``if "bn" not in n: params.append(p)``: a filter, not every parameter
    return dotted(it.func.value)


def _module_parameter_of(value: ast.AST, loop: Optional[ast.AST]) -> Optional[str]:
    """``model`` for ``pg0.append(v.weight)`` in ``for k, v in model.named_modules():`` (the
    YOLO recipe of three parameter groups: BatchNorm weights, other weights, biases)."""
    if not (isinstance(loop, ast.For) and isinstance(value, ast.Attribute) and value.attr in ("weight", "bias")
            and isinstance(value.value, ast.Name) and isinstance(it := loop.iter, ast.Call)
            and isinstance(it.func, ast.Attribute) and it.func.attr in ("modules", "named_modules")):
        return None
    target = loop.target.elts[-1] if isinstance(loop.target, ast.Tuple) and loop.target.elts else loop.target
    return dotted(it.func.value) if isinstance(target, ast.Name) and target.id == value.value.id else None


def group_params(group: ast.expr) -> Optional[ast.expr]:
    """What a param group gives as its ``"params"`` (``{"params": model.fc.parameters(), "lr":
    1e-3}``), or None when ``group`` is not a dict literal naming them."""
    if not isinstance(group, ast.Dict):
        return None
    return next((v for k, v in zip(group.keys, group.values) if isinstance(k, ast.Constant) and k.value == "params"),
                None)


def optimised_parameters(call: ast.Call) -> Optional[ast.expr]:
    """The parameters an optimiser is built with: its first argument or ``params=``."""
    return call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "params"), None)


def optimiser_owners(call: ast.Call, scope: ast.AST) -> set[str]:
    """Every module whose parameters the optimiser ``call`` in ``scope`` takes, also through
    a list built before it (:func:`listed_parameter_owners`); empty when they are unknown."""
    given = optimised_parameters(call)
    owners = parameters_owners(given, scope) if given is not None else set()
    if not owners and isinstance(given, ast.Name):
        owners = listed_parameter_owners(given.id, scope)
    elif isinstance(given, (ast.List, ast.Tuple)):  # ``[{"params": param2, "lr": 1e-3}, {"params": param1}]``
        for group in given.elts:
            if isinstance(listed := group_params(group), ast.Name):
                owners |= listed_parameter_owners(listed.id, scope)  # (``param2 = [sigma]``, a tensor: none)
    return owners


def listed_parameter_owners(name: str, scope: ast.AST) -> set[str]:
    """Every module whose parameters the list ``name`` built in ``scope`` holds
    (``params = list(head.parameters()) + list(tail.decoder.parameters())``, ``params +=``,
    ``params.extend(...)``); empty when a part of it is not read from a ``parameters()`` call
    (``params.append(p)`` in a filtering loop): who is optimised is then unknown."""
    owners: set[str] = set()
    loops: dict[ast.AST, ast.AST] = {}  # each node -> the innermost loop around it, in ``scope``
    for node in frame_nodes(scope):
        if isinstance(node, ast.For):
            loops.update((inner, node) for inner in ast.walk(node) if inner is not node)
        if isinstance(node, ast.Assign) and any(dotted(t) == name for t in node.targets):
            value: Optional[ast.AST] = node.value
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and dotted(node.target) == name:
            value = node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
              and node.func.attr in ("append", "extend", "insert") and dotted(node.func.value) == name):
            value = node.args[-1]
        else:
            continue
        if isinstance(value, (ast.List, ast.Tuple)) and not value.elts:
            continue  # the empty list the build starts from
        found = parameters_owners(value) if value is not None else set()
        if not found and value is not None and (whole := _every_parameter_of(node, value, loops.get(node))
                                                or _module_parameter_of(value, loops.get(node))):
            found = {whole}  # for n, p in model.named_parameters(): params.append({"params": p, "lr": ...})
        if not found:
            return set()
        owners |= found
    return owners
