"""Losses handed to a model of the file (GL215): ``model.add_loss_op(nn.NLLLoss())`` where
the class stores the loss in an attribute (``self.loss_op = loss_op``) and one of its
methods calls it on the model's own output (``self.loss_op(self(x), y)``); and the link
every GL215 reader gives its rule, :class:`LossOfModel`."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional

from gradlint.source.endings import Ending, FinalActivation
from gradlint.source.loss_helpers import LossHelper
from gradlint.source.names import dotted
from gradlint.source.output_flow import LOSSES, SELF_CALLS, activation_of, model_outputs, output_of, own_calls


@dataclass
class LossOfModel:
    """A loss call fed with a model's output (or the call handing the loss to the model)."""

    activation: FinalActivation
    loss: str  # e.g. CrossEntropyLoss
    call: ast.Call
    handed: bool = False  # the call hands the loss to the model, which calls it on its output
    # a handed loss: where the model calls it (``run_epoch`` (model.py:76)), and the loss's
    # construction when the call hands a name bound to one
    called_in: Optional[str] = None
    built: Optional[ast.stmt] = None
    through: Optional[LossHelper] = None  # the call hands the model (and the loss) to a helper that links them
    wrapper: Optional[str] = None  # the call is to a function applying the loss to what it is given


def handed_losses(tree: ast.Module, instances: dict[str, str], classes: dict[str, ast.ClassDef],
                   by_class: dict[str, Ending], names: dict[int, str], losses: dict[str, str]) -> list[LossOfModel]:
    """``model.add_loss_op(nn.NLLLoss())`` where the class stores the loss in an attribute
    and calls it on its own output."""
    found = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        if not (isinstance(call.func, ast.Attribute) and len(call.args) == 1 and not call.keywords):
            continue
        holder = dotted(call.func.value)
        cls_name = instances.get(holder or "")
        if not cls_name or cls_name not in by_class:
            continue
        argument = call.args[0]
        loss = (LOSSES.get(names.get(id(argument), "")) if isinstance(argument, ast.Call)
                else losses.get(dotted(argument) or ""))
        if loss is None:
            continue
        attribute = _setter_attribute(classes[cls_name], call.func.attr)
        fed = _fed_outputs(classes[cls_name], by_class[cls_name]).get(attribute or "")
        if fed is not None:
            activation, method, inner = fed
            where = f"{activation.path}:{inner.lineno}" if activation.path else f"line {inner.lineno}"
            found.append(LossOfModel(activation, loss, call, handed=True, called_in=f"`{method}` ({where})",
                                     built=_built_once(tree, argument, call)))
    return found


def _built_once(tree: ast.Module, argument: ast.expr, before: ast.Call) -> Optional[ast.stmt]:
    """The one ``name = nn.NLLLoss()`` before ``before`` that the handed name holds."""
    if not isinstance(argument, ast.Name):
        return None
    bound = [node for node in ast.walk(tree) if isinstance(node, ast.Assign) and len(node.targets) == 1
             and isinstance(node.targets[0], ast.Name) and node.targets[0].id == argument.id]
    if len(bound) == 1 and isinstance(bound[0].value, ast.Call) and bound[0].lineno < before.lineno:
        return bound[0]
    return None


def _setter_attribute(cls: ast.ClassDef, method: str) -> Optional[str]:
    """The attribute ``method`` stores its one parameter in: ``self.loss_op = loss_op``."""
    function = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == method), None)
    if function is None or len(function.args.args) != 2:
        return None
    own, parameter = function.args.args[0].arg, function.args.args[1].arg
    for node in function.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Name)
                and node.value.id == parameter and (target := dotted(node.targets[0]) or "").startswith(own + ".")):
            return target[len(own) + 1:]
    return None


def _fed_outputs(cls: ast.ClassDef, ending: Ending) -> dict[str, tuple[FinalActivation, str, ast.Call]]:
    """Attributes of the class called on its own output: ``self.loss_op(self(x), y)``, with
    the method and the call."""
    fed: dict[str, tuple[FinalActivation, str, ast.Call]] = {}
    for function in cls.body:
        if not isinstance(function, ast.FunctionDef) or not function.args.args:
            continue
        own = function.args.args[0].arg
        visible = {own + suffix: ending for suffix in SELF_CALLS}
        assigned = model_outputs(function, visible)
        for call in own_calls(function):
            callee = dotted(call.func) or ""
            if callee.startswith(own + ".") and call.args:
                activation = activation_of(output_of(call.args[0], visible, assigned))
                if activation is not None:
                    fed.setdefault(callee[len(own) + 1:], (activation, function.name, call))
    return fed
