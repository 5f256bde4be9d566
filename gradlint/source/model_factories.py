"""Which classes a project function can return: ``def setup(opt): if opt.model == "cnn":
model = CNN(opt) elif ...: model = CapsuleNet(opt); return model`` can return ``CNN`` and
``CapsuleNet``. Read from ``ast``; a value that is not a call of a known class is skipped.
"""

from __future__ import annotations

import ast

from gradlint.source.names import dotted
from gradlint.source.reaching_bindings import unwrap


def returned_classes(function: ast.FunctionDef, known: set[str]) -> list[str]:
    """The names in ``known`` the function returns an instance of, in source order."""
    found: list[str] = []
    for candidate in returned_values(function):
        if isinstance(candidate, ast.Call) and (name := dotted(candidate.func)) in known and name not in found:
            found.append(name)
    return found


def returned_values(function: ast.FunctionDef) -> list[ast.expr]:
    """What the function returns, a returned name read as the values assigned to it
    (``model = ResNet(...); ...; return model`` -> the call), in source order."""
    values: list[ast.expr] = []
    assigned = _assigned(function)
    for node in ast.walk(function):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = unwrap(node.value)
        values += [unwrap(v) for v in assigned.get(value.id, [])] if isinstance(value, ast.Name) else [value]
    return values


def returned_tuple_classes(function: ast.FunctionDef, known: set[str]) -> dict[int, str]:
    """For a function returning one tuple of models (``return netG, netD``, each bound
    once to ``Cls(...)``), the class in ``known`` at each position it can tell."""
    returns = [node for node in ast.walk(function) if isinstance(node, ast.Return) and node.value is not None]
    if len(returns) != 1 or not isinstance(returns[0].value, ast.Tuple):
        return {}
    assigned = _assigned(function)
    found: dict[int, str] = {}
    for index, element in enumerate(returns[0].value.elts):
        values = assigned.get(element.id, []) if isinstance(element, ast.Name) else [element]
        calls = {dotted(call.func) for value in values if isinstance(call := unwrap(value), ast.Call)}
        if len(values) == 1 and len(calls) == 1 and (name := calls.pop()) in known:
            found[index] = str(name)
    return found


def _assigned(function: ast.FunctionDef) -> dict[str, list[ast.expr]]:
    """Each plain name of ``function`` -> every value assigned to it."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    return assigned
