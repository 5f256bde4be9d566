"""Forwards that return a container of activations (GL215): a multi-head model whose
forward fills a dict or list with one softmax per head and returns it
(``outputs[head] = F.softmax(head(x), dim=1)``, ``outs.append(...)``,
``[F.softmax(h(f), 1) for h in self.heads]``, ``{"age": F.softmax(...), ...}``). Every
element is then probabilities, and a loss given ``outputs[head]`` gets one of them.
"""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.activations import activation_kind
from gradlint.source.function_values import last_assigned, own_nodes
from gradlint.source.names import dotted

# the position, in an ending, of "every element of the container forward returns"
EACH = -1

_EMPTY = ("dict", "list", "OrderedDict", "collections.OrderedDict")
_FILLS = ("append", "insert", "__setitem__")
_OTHER_FILLS = ("extend", "update", "setdefault", "__iadd__")  # what they add is not read


def container_activation(forward: ast.FunctionDef, value: Optional[ast.expr], names: dict[int, str],
                         layers: dict[str, str]) -> Optional[tuple[str, ast.expr]]:
    """The activation (kind, where applied) every element of ``value``, a container
    ``forward`` returns, is; None when one element is anything else, or unknown."""
    elements = _elements(forward, value)
    if not elements:
        return None
    found: list[tuple[str, ast.expr]] = []
    for element in elements:
        resolved = last_assigned(forward, element) if isinstance(element, ast.Name) else element
        kind = activation_kind(resolved, names, layers)
        if kind is None or resolved is None:
            return None
        found.append((kind, resolved))
    return found[-1] if len({kind for kind, _ in found}) == 1 else None


def _elements(forward: ast.FunctionDef, value: Optional[ast.expr]) -> list[ast.expr]:
    if isinstance(value, ast.Dict) and value.keys and all(key is not None for key in value.keys):
        return list(value.values)
    if isinstance(value, ast.List) and value.elts and not any(isinstance(e, ast.Starred) for e in value.elts):
        return list(value.elts)
    if isinstance(value, (ast.ListComp, ast.GeneratorExp)):
        return [value.elt]
    if isinstance(value, ast.DictComp):
        return [value.value]
    if not isinstance(value, ast.Name):
        return []
    start = last_assigned(forward, value)
    empty = (isinstance(start, ast.Dict) and not start.keys) or (isinstance(start, ast.List) and not start.elts) or (
        isinstance(start, ast.Call) and not start.args and not start.keywords and dotted(start.func) in _EMPTY)
    if empty:
        return _stored(forward, value.id)  # outputs = {}; outputs[head] = ...
    return _elements(forward, start) if isinstance(start, (ast.Dict, ast.List, ast.ListComp, ast.DictComp)) else []


def _stored(forward: ast.FunctionDef, name: str) -> list[ast.expr]:
    """What ``forward`` puts into the container ``name``: ``name[k] = v``, ``name.append(v)``;
    nothing when it is also filled another way (``extend``, ``update``)."""
    stored: list[ast.expr] = []
    for node in own_nodes(forward):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == name:
                    stored.append(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == name:
            if node.func.attr in _FILLS and node.args:
                stored.append(node.args[-1])
            elif node.func.attr in _OTHER_FILLS:
                return []
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return []
    return stored
