"""Which loss calls of a file train (GL215): not one computed under ``torch.no_grad()`` or read
only as a number (an evaluation loop's ``criterion(out, y).item()``, or ``loss = criterion(out,
y)`` then ``total += loss.item()``), nor a module-level
call reached before the model or loss it names is bound."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.function_values import own_nodes
from gradlint.source.model_bindings import ModuleDefinitions
from gradlint.source.names import dotted


_NO_GRAD = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad"}


def not_training(tree: ast.Module, names: dict[int, str]) -> set[int]:
    """Ids of the nodes whose loss trains nothing: inside ``with torch.no_grad():`` (or
    ``inference_mode``) blocks, and a call read only as a number (``criterion(out,
    y).item()`` in an evaluation loop, or through a name: a training loss of the file is the
    one to report)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(isinstance(item.context_expr, ast.Call)
                                              and names.get(id(item.context_expr)) in _NO_GRAD for item in node.items):
            inside.update(id(sub) for statement in node.body for sub in ast.walk(statement))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "item" \
                and isinstance(node.func.value, ast.Call):
            inside.add(id(node.func.value))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            inside.update(_read_only_as_numbers(node))
    return inside


_TO_NUMBER = ("item", "numpy", "tolist")  # (``loss.cpu().detach().numpy()``: a number to log)
_DETACHING = ("cpu", "detach", "numpy")


def _detached_name(value: ast.expr) -> Optional[ast.Name]:
    """The name under ``value`` when ``value`` is that name, or the name through ``.cpu()``,
    ``.detach()``, ``.numpy()`` and ``.data``."""
    while True:
        if isinstance(value, ast.Name):
            return value
        if isinstance(value, ast.Attribute) and value.attr == "data":
            value = value.value
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _DETACHING \
                and not value.args and not value.keywords:
            value = value.func.value
        else:
            return None


def _read_only_as_numbers(scope: ast.AST) -> set[int]:
    """Ids of the calls a function (or the module's own code) binds to a name it then only
    reads as a number (``loss = loss_fn(logits, y)`` then ``val_loss += loss.item()``, never
    ``loss.backward()``)."""
    bound: dict[str, list[ast.Call]] = {}
    loads: list[ast.Name] = []
    numeric: set[int] = set()  # the names read as ``name.item()`` or ``float(name)``
    for node in own_nodes(scope):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Call):
            bound.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.Call) and not node.keywords and (
                isinstance(node.func, ast.Attribute) and node.func.attr in _TO_NUMBER and not node.args
                and (number := _detached_name(node.func.value)) is not None
                or isinstance(node.func, ast.Name) and node.func.id == "float" and len(node.args) == 1
                and (number := _detached_name(node.args[0])) is not None):
            numeric.add(id(number))
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            loads.append(node)
    read_otherwise = {node.id for node in loads if id(node) not in numeric}
    read = {node.id for node in loads}
    return {id(call) for name, calls in bound.items() if name in read and name not in read_otherwise for call in calls}


def not_yet_bound(definitions: ModuleDefinitions, tree: ast.Module, fed: ast.expr, call: ast.Call,
                  losses: dict[str, str]) -> bool:
    """At this module-level loss call, the loss's name, or the name of the model whose output
    it is fed (``model(x)``, or ``pred`` bound to ``model(x)`` before), is still a function
    the module defined earlier, or is bound only further down."""
    loss = dotted(call.func)
    if loss in losses and definitions.defined_there(loss, call.lineno):
        return True
    value: Optional[ast.expr] = fed
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and isinstance(value.func.value, ast.Call):
        value = value.func.value  # model(x).squeeze(1)
    line = call.lineno
    if isinstance(value, ast.Name):
        bound = sorted((node for node in own_nodes(tree) if isinstance(node, ast.Assign) and node.lineno < line
                        and any(isinstance(t, ast.Name) and t.id == value.id for t in node.targets)),
                       key=lambda node: node.lineno)
        if not bound:
            return False
        value, line = bound[-1].value, bound[-1].lineno
    model = dotted(value.func) if isinstance(value, ast.Call) else None
    return model is not None and definitions.defined_there(model, line)
