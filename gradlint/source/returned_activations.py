"""Which activation a value ``forward`` returns holds on every path (GL215's endings): an
element of each returned shape that is the same activation, a name each of whose
assignments, or each arm of the ``if`` chain before the ``return``, applies it. Read by
:mod:`gradlint.source.endings` for the file's classes and their tuples."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.activations import activation_kind, kept_activation
from gradlint.source.function_values import last_assigned, own_nodes


def alike_at(forward: ast.FunctionDef, shapes: list[list[Optional[ast.expr]]], index: int, names: dict[int, str],
              layers: dict[str, str]) -> Optional[tuple[str, ast.expr]]:
    """(kind, where) when element ``index`` of every returned shape is the same activation."""
    found: list[tuple[str, ast.expr]] = []
    for shape in shapes:
        element = shape[index]
        value = last_assigned(forward, element) if isinstance(element, ast.Name) else element
        if value is None and isinstance(element, ast.Name):
            value = _alike_everywhere(forward, element.id, names, layers) or _alike_in_arms(forward, element, names, layers)
        kind = activation_kind(value, names, layers)
        if kind is None and value is not None and (kept := kept_activation(forward, value, names, layers)):
            kind, value = kept
        if kind is None or value is None:
            return None  # a path that returns something else here (logits in training)
        found.append((kind, value))
    return (found[0][0], found[-1][1]) if len({kind for kind, _ in found}) == 1 else None


def _alike_everywhere(forward: ast.FunctionDef, name: str, names: dict[int, str],
                      layers: dict[str, str]) -> Optional[ast.expr]:
    """The last value of ``name`` when each assignment of it applies the same activation:
    ``if ngpu > 1: aux = data_parallel(self.aux, h, ...) else: aux = self.aux(h)``."""
    values = sorted((node.value for node in own_nodes(forward) if isinstance(node, ast.Assign)
                     and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name),
                    key=lambda value: value.lineno)
    kinds = {activation_kind(value, names, layers) for value in values}
    return values[-1] if values and len(kinds) == 1 and None not in kinds else None


def _alike_in_arms(forward: ast.FunctionDef, name: ast.Name, names: dict[int, str],
                   layers: dict[str, str]) -> Optional[ast.expr]:
    """The last value of ``name`` when each arm of the ``if``/``elif`` chain before the return
    ends by applying the same activation: ``if self.head == 1: out = self.softmax(self.fc(h))
    elif self.head == 2: ... out = self.softmax(out)`` then ``return out``."""
    body = forward.body
    returned = next((index for index, stmt in enumerate(body) if any(node is name for node in ast.walk(stmt))), None)
    values = _values_at_end(body[:returned], name.id) if returned is not None else None
    if not values:
        return None
    kinds = {activation_kind(value, names, layers) for value in values}
    return values[-1] if len(kinds) == 1 and None not in kinds else None


def _values_at_end(statements: list[ast.stmt], name: str) -> Optional[list[ast.expr]]:
    """The values ``name`` may hold after ``statements``, one for each way through their
    ``if`` arms (a way that leaves it unbound raises, and is left out); None where a
    statement binds it otherwise (a loop, a tuple) or where nothing does."""
    for index in range(len(statements) - 1, -1, -1):
        statement = statements[index]
        if not any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(statement)):
            continue
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
            return [statement.value]
        if not isinstance(statement, ast.If):
            return None
        arms = [_values_at_end(statement.body, name)]
        arms.append(_values_at_end(statement.orelse, name) if statement.orelse else _values_at_end(statements[:index], name) or [])
        if any(arm is None for arm in arms) or not arms[0]:
            return None
        return [value for arm in arms for value in arm or []]
    return None
