"""Layers a builder makes only when a switch parameter, off by default, is passed on
(GL406's BatchNorm reading, the recurrent-layer reading): ``def make_layers(cfg,
batch_norm=False): ... if batch_norm: layers += [conv, nn.BatchNorm2d(v), relu]``. The
VGG builders of many segmentation projects call ``make_layers(cfg, batch_norm=False)``:
that VGG has no BatchNorm, and ``make_layers(cfg, batch_norm=True)`` one has."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.parameter_defaults import parameter_defaults

Switch = tuple[int, str]  # the parameter's position (in a call's arguments) and name


def switch_guarded(node: ast.AST) -> dict[int, Switch]:
    """id of each node ``node`` (a plain function) builds only under ``if <parameter>:``,
    the parameter defaulting to ``False`` or ``None``, with that parameter."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {}
    positional = node.args.posonlyargs + node.args.args
    if positional and positional[0].arg in ("self", "cls"):
        return {}  # a method: its call's arguments do not line up with its parameters
    defaults = parameter_defaults(node)
    index = {a.arg: i for i, a in enumerate(positional)}
    guarded: dict[int, Switch] = {}
    for sub in ast.walk(node):
        if isinstance(sub, ast.If) and isinstance(sub.test, ast.Name) and sub.test.id in defaults \
                and isinstance(default := defaults[sub.test.id], ast.Constant) and default.value in (False, None):
            switch = (index.get(sub.test.id, -1), sub.test.id)
            guarded.update((id(inner), switch) for statement in sub.body for inner in ast.walk(statement))
    return guarded


def switched_on(call: ast.Call, switch: Optional[Switch]) -> bool:
    """Whether ``call`` turns ``switch`` on: a keyword or positional argument that is not a
    false constant (a name passed on may be either: counted on); omitted, it stays off."""
    if switch is None:
        return True
    position, name = switch
    given = next((k.value for k in call.keywords if k.arg == name), None)
    if given is None and 0 <= position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args):
        given = call.args[position]
    if given is None:
        return any(k.arg is None for k in call.keywords)  # **options: may turn it on
    return not (isinstance(given, ast.Constant) and given.value in (False, None, 0))


def unguarded_batchnorm(tree: ast.Module) -> bool:
    """Whether ``tree`` names a BatchNorm class anywhere but in an ``isinstance`` test (weight
    initialisation) or under a builder's switch that is off by default."""
    quiet: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            quiet.update(switch_guarded(node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance":
            quiet.update(id(inner) for argument in node.args[1:] for inner in ast.walk(argument))
    return any(isinstance(node, (ast.Name, ast.Attribute)) and "BatchNorm" in (node.id if isinstance(node, ast.Name)
                                                                            else node.attr)
               and id(node) not in quiet for node in ast.walk(tree)) \
        or any(isinstance(node, ast.Constant) and isinstance(node.value, str) and "BatchNorm" in node.value
               for node in ast.walk(tree))
