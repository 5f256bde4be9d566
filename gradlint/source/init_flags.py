"""A model whose forward ends by a flag its constructor keeps (GL215):
``def __init__(self, softmax=True): self.softmax = softmax`` and in forward ``if
self.softmax: x = F.softmax(self.fc3(x), dim=1) else: x = self.fc3(x)``. Built as
``TestCNN(nb_classes=2)``, the flag keeps its default and the model returns
probabilities; ``TestCNN(softmax=False)`` returns logits.

:func:`flag_forward` is forward with the tests on such flags decided by their defaults
(the statements of the branch taken spliced in place of the ``if``); :func:`constructed`
drops the endings a construction passing another value does not take."""

from __future__ import annotations

import ast
import copy
from typing import Optional

from gradlint.source.default_paths import decide

Flag = tuple[int, str, object]  # the constructor parameter (index after self, name) and its default


def init_flags(cls: ast.ClassDef) -> dict[str, Flag]:
    """``self.<attribute>`` -> the ``__init__`` parameter it keeps, when that parameter has a
    constant (not string) default and ``__init__`` assigns the attribute only from it."""
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is None:
        return {}
    params = [a.arg for a in init.args.args[1:]]
    defaults = dict(zip(params[len(params) - len(init.args.defaults):], init.args.defaults))
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                    assigned.setdefault(target.attr, []).append(node.value)
    flags: dict[str, Flag] = {}
    for attribute, values in assigned.items():
        if len(values) != 1 or not isinstance(values[0], ast.Name) or values[0].id not in defaults:
            continue
        default = defaults[values[0].id]
        if isinstance(default, ast.Constant) and not isinstance(default.value, str):
            flags[f"self.{attribute}"] = (params.index(values[0].id), values[0].id, default.value)
    return flags


def flag_forward(forward: ast.FunctionDef, flags: dict[str, Flag]) -> tuple[Optional[ast.FunctionDef], tuple[Flag, ...]]:
    """``forward`` with each ``if`` on a constructor flag replaced by the branch its default
    takes (a shallow copy: the statements and expressions are forward's own), and the
    flags that decided one; (None, ()) when no test was decided."""
    values = {name: flag[2] for name, flag in flags.items()}
    decided: dict[str, int] = {}
    body = _taken(forward.body, values, decided)
    if not decided:
        return None, ()
    pruned = copy.copy(forward)
    pruned.body = body or [ast.Pass()]
    return pruned, tuple(flags[name] for name in sorted(decided) if name in flags)


def _taken(body: list[ast.stmt], values: dict[str, object], decided: dict[str, int]) -> list[ast.stmt]:
    kept: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.If):
            found: dict[str, int] = {}
            value = decide(statement.test, values, found)
            if value is not None and found:
                decided.update(found)
                kept.extend(_taken(statement.body if value else statement.orelse, values, decided))
                continue
        copied = statement
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                new = _taken(inner, values, decided)
                if len(new) != len(inner) or any(a is not b for a, b in zip(new, inner)):
                    copied = copy.copy(copied) if copied is statement else copied
                    setattr(copied, field, new or [ast.Pass()])
        kept.append(copied)
    return kept


def constructed(flags: tuple[Flag, ...], call: ast.Call) -> bool:
    """Whether ``call`` builds the model with every flag in ``flags`` at its default: not
    passed, or passed that same constant."""
    if not flags:
        return True  # no flag decides the ending: ``TextCNN(**params)`` ends as any construction does
    if any(isinstance(arg, ast.Starred) for arg in call.args) or any(k.arg is None for k in call.keywords):
        return False
    for index, name, default in flags:
        given = next((k.value for k in call.keywords if k.arg == name), None)
        if given is None and len(call.args) > index:
            given = call.args[index]
        if given is not None and not (isinstance(given, ast.Constant) and given.value == default):
            return False
    return True
