"""Freezes of a model's children named in a list: the stem and the early stages frozen by
name, ``for name in ["conv1", "bn1", "layer1", "layer2"]: for p in getattr(net,
name).parameters(): p.requires_grad = False``, also inside a helper that takes the names
(``freeze_layers(net, ["conv1", "bn1", "layer1"])``), read at each call. And the parts made
trainable again by name, ``for name, p in net.named_parameters(): if any(n in name for n
in names): p.requires_grad = True`` (``unfreeze_layers(net, ["layer1", "bn1"])``).

The frozen part holds BatchNorm when one of the names is more than a head or a single
convolution (``bn1``, ``layer1``, ``features``); a list naming only ``fc`` or ``conv1`` is
not read.
"""

from __future__ import annotations

import ast
import re
from typing import Iterator, Optional

from gradlint.source.freeze_facts import Elsewhere, Freeze
from gradlint.source.freeze_forms import requires_grad_value
from gradlint.source.modules import ModuleKinds
from gradlint.source.names import dotted
from gradlint.source.string_lists import string_lists
from gradlint.source.call_arguments import argument

# children that hold no BatchNorm in the common families: heads, a lone convolution or pooling
_PLAIN = re.compile(r"(fc|classifier|head|last_linear|linear|dropout|avgpool|maxpool|global_pool|pool|conv)\d*$")


def getattr_freeze(loop: ast.For | ast.AsyncFor) -> Optional[tuple[str, ast.expr]]:
    """(the model, the names iterated) for ``for name in NAMES: <freeze getattr(model, name)>``."""
    if not isinstance(loop.target, ast.Name):
        return None
    var = loop.target.id
    for stmt in loop.body:
        owner = _frozen_getattr(stmt, var)
        if owner is not None:
            return owner, loop.iter
    return None


def _frozen_getattr(stmt: ast.stmt, var: str) -> Optional[str]:
    """``model`` when ``stmt`` freezes ``getattr(model, var)``: through its parameters, or
    with ``requires_grad_(False)``."""
    if isinstance(stmt, (ast.For, ast.AsyncFor)) and isinstance(stmt.target, ast.Name):
        it = stmt.iter
        if (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "parameters"
                and (owner := _getattr_of(it.func.value, var)) is not None
                and any(requires_grad_value(s, stmt.target.id) is False for s in stmt.body)):
            return owner
    if (isinstance(stmt, ast.Expr) and isinstance(call := stmt.value, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr == "requires_grad_" and call.args and isinstance(call.args[0], ast.Constant)
            and call.args[0].value is False):
        return _getattr_of(call.func.value, var)
    return None


def _getattr_of(node: ast.expr, var: str) -> Optional[str]:
    if (isinstance(node, ast.Call) and dotted(node.func) == "getattr" and len(node.args) == 2
            and isinstance(node.args[1], ast.Name) and node.args[1].id == var):
        return dotted(node.args[0])
    return None


def listed_names(node: Optional[ast.expr], bound: dict[str, ast.expr]) -> Optional[list[str]]:
    """The strings of a literal list, tuple or set (or of a name ``bound`` to one)."""
    if isinstance(node, ast.Name):
        node = bound.get(node.id)
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return None
    names = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return names if len(names) == len(node.elts) else None


def named_part(owner: str, names: list[str]) -> Optional[str]:
    """``"`net.bn1`, `net.layer1` and `net.layer2`"`` when a named child can hold BatchNorm."""
    if not any(not _PLAIN.match(name) for name in names):
        return None
    shown = [f"`{owner}.{name}`" for name in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" and {shown[-1]}"


Helpers = list[tuple[ast.For | ast.AsyncFor, str, str]]  # (the loop, model parameter, names parameter)


def _listed_at_calls(by_parameter: Helpers, kinds: ModuleKinds, calls: dict[str, list[ast.Call]],
                     parents: dict) -> Iterator[tuple[ast.For | ast.AsyncFor, str, str, list[str], ast.Call]]:
    """(the loop, its helper, the model part named at the call, the listed names, the call)
    for each call of each helper that passes a model and a literal list of names."""
    for loop, owner, parameter in by_parameter:
        helper = kinds.frame_of(loop)
        params = [a.arg for a in helper.args.args] if isinstance(helper, ast.FunctionDef) else []
        root, dot, rest = owner.partition(".")
        if not isinstance(helper, ast.FunctionDef) or root not in params or parameter not in params:
            continue
        for call in calls.get(helper.name, []):
            passed = argument(call, params.index(root), root)
            model = dotted(passed) if passed is not None else None
            names = listed_names(argument(call, params.index(parameter), parameter), string_lists(call, parents))
            if model and names:
                yield loop, helper.name, model + dot + rest, names, call


def named_at_calls(by_parameter: Helpers, kinds: ModuleKinds, calls: dict[str, list[ast.Call]],
                   parents: dict) -> list[Freeze]:
    """For each helper freezing the children it is given, the freeze at each call."""
    return [Freeze(model, "requires_grad", call, part=part, via=Elsewhere(helper, loop.lineno))
            for loop, helper, model, names, call in _listed_at_calls(by_parameter, kinds, calls, parents)
            if (part := named_part(model, names))]


def listing_tested(test: ast.expr, name: str) -> Optional[ast.expr]:
    """The collection of names a test on the parameter name ``name`` looks up:
    ``any(n in name for n in C)``, ``any(name.startswith(n) for n in C)``,
    ``name.startswith(tuple(C))`` and ``name in C`` (also ``name.split(".")[0] in C``), and
    single names joined by ``or`` (``name.startswith("fc") or "layer4" in name``)."""
    def mentions(node: ast.expr) -> bool:
        return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))

    if (isinstance(test, ast.Call) and dotted(test.func) == "any" and len(test.args) == 1
            and isinstance(gen := test.args[0], ast.GeneratorExp) and len(gen.generators) == 1 and mentions(gen.elt)):
        return gen.generators[0].iter
    if (isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "startswith"
            and mentions(test.func.value) and len(test.args) == 1):
        listed = test.args[0]
        return listed.args[0] if isinstance(listed, ast.Call) and dotted(listed.func) == "tuple" and listed.args else listed
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.In)
            and mentions(test.left)):
        return test.comparators[0]
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.In)
            and isinstance(test.left, ast.Constant) and isinstance(test.left.value, str) and mentions(test.comparators[0])):
        return test.left  # "layer4" in name
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        # name.startswith("Mixed_7c") or name.startswith("fc") or "layer4" in name: each one name
        each = [listing_tested(value, name) for value in test.values]
        if each and all(isinstance(one, ast.Constant) and isinstance(one.value, str) for one in each):
            return ast.List([one for one in each if one is not None], ast.Load())
    return None


def unfrozen_at_calls(by_parameter: Helpers, kinds: ModuleKinds, calls: dict[str, list[ast.Call]],
                      parents: dict) -> list[tuple[str, ast.Call]]:
    """For each helper making the parameters of the names it is given trainable again:
    ``(model.<name>, call)`` for each name of each call."""
    return [(f"{model}.{name}", call) for _, _, model, names, call in _listed_at_calls(by_parameter, kinds, calls, parents)
            for name in names]
