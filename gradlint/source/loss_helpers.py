"""Functions that call a loss on a model they are given (GL215): ``def train(loader,
model, loss_fn, optimizer): ... loss_fn(model(X), y)``, in the linted file or in a
project module it imports (``import myModel; myModel.train(loader, net, nn.CrossEntropyLoss(), opt)``).

A call of one links the model it passes with the loss it passes (or the loss the helper
builds itself), as ``criterion(model(x), y)`` written in the script would.
"""

from __future__ import annotations

import ast
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from gradlint.source.endings import Ending, FinalActivation
from gradlint.source.index import FileIndex, file_stamp
from gradlint.source.names import collect_aliases, dotted, qualify
from gradlint.source.output_flow import LOSSES, loss_of, model_outputs, output_of, own_calls
from gradlint.source.torch_calls import torch_calls
from gradlint.source.unit import SourceUnit

Parameter = tuple[int, str]  # position, name


@dataclass(frozen=True)
class LossHelper:
    """A module-level function that calls a loss on the output of a model parameter."""

    function: str
    model: Parameter  # the parameter holding the model
    position: Optional[int]  # the element of the model's output the loss gets; None: all of it
    loss: Union[Parameter, str]  # the parameter holding the loss, or the loss it builds itself
    line: int  # the loss call
    path: Optional[str] = None  # its module as seen from the linted file's folder; None: that file

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.path else f"line {self.line}"


def file_helpers(tree: ast.Module, names: dict[int, str]) -> dict[str, LossHelper]:
    """The module-level functions of ``tree`` that call a loss on a model parameter's output
    (``names``: the qualified torch name of each call, by node id)."""
    aliases = collect_aliases(tree)
    module_losses = _bound_losses(tree.body, names, aliases)
    found: dict[str, LossHelper] = {}
    for function in tree.body:
        if isinstance(function, ast.FunctionDef) and function.args.args:
            helper = _helper(function, names, aliases, module_losses)
            if helper is not None:
                found[function.name] = helper
    return found


def _bound_losses(statements: list[ast.stmt], names: dict[int, str], aliases: dict[str, str]) -> dict[str, str]:
    """``criterion = nn.CrossEntropyLoss()``, ``loss_fn = F.cross_entropy`` -> {name: loss}."""
    losses = {}
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value = node.value
                qualified = names.get(id(value)) if isinstance(value, ast.Call) else qualify(value, aliases)
                if qualified in LOSSES:
                    losses[node.targets[0].id] = LOSSES[qualified]
    return losses


def _helper(function: ast.FunctionDef, names: dict[int, str], aliases: dict[str, str],
            module_losses: dict[str, str]) -> Optional[LossHelper]:
    params = [a.arg for a in function.args.args]
    # each parameter stands for a model whose output is itself; the loss call tells which it is
    stand_ins: dict[str, Ending] = {name: {None: FinalActivation(name, "parameter", function)} for name in params}
    losses = {**module_losses, **{name: f"@{name}" for name in params}, **_bound_losses(function.body, names, aliases)}
    assigned = model_outputs(function, stand_ins)
    for call in own_calls(function):
        loss = loss_of(call, names, losses)
        if loss is None or not call.args:
            continue
        output = output_of(call.args[0], stand_ins, assigned)
        if output is None or None not in output[0]:
            continue
        model = output[0][None].model
        held = (params.index(loss[1:]), loss[1:]) if loss.startswith("@") else loss
        if held != (params.index(model), model):
            return LossHelper(function.name, (params.index(model), model), output[1], held, call.lineno)
    return None


def imported_helpers(tree: ast.Module, text: str, script: Path) -> dict[str, LossHelper]:
    """The loss helpers of project modules the file imports and calls, by the name it calls
    them: ``train`` (``from engine import train``) or ``engine.train`` (``import engine``)."""
    index = FileIndex()
    found: dict[str, LossHelper] = {}
    base = str(script.resolve().parent)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.level or node.module):
            target = index.resolve_import(script, node.module or "", node.level, entry=script)
            if target is None:
                continue
            for alias in node.names:
                local = alias.asname or alias.name
                if alias.name == "*" or f"{local}(" in text:
                    for name, helper in _module_helpers(str(target), file_stamp(target), base).items():
                        if alias.name in ("*", name) and f"{local if alias.name != '*' else name}(" in text:
                            found[local if alias.name != "*" else name] = helper
        elif isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name
                if f"{local}." not in text:
                    continue
                target = index.resolve_import(script, alias.name, 0, entry=script)
                if target is not None:
                    for name, helper in _module_helpers(str(target), file_stamp(target), base).items():
                        if f"{local}.{name}(" in text:
                            found[f"{local}.{name}"] = helper
    return found


@functools.lru_cache(maxsize=256)
def _module_helpers(path: str, stamp: tuple[int, int], script_dir: str) -> dict[str, LossHelper]:
    try:
        unit = SourceUnit.from_path(Path(path), path)
    except OSError:
        return {}
    if unit.tree is None:
        return {}
    shown = os.path.relpath(Path(path).resolve(), script_dir)
    names = {id(c.node): c.name for c in torch_calls(unit).calls}
    return {name: LossHelper(h.function, h.model, h.position, h.loss, h.line, shown)
            for name, h in file_helpers(unit.tree, names).items()}


def argument(call: ast.Call, parameter: Parameter) -> Optional[ast.expr]:
    """What ``call`` passes for a parameter (by keyword or position)."""
    index, name = parameter
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if any(isinstance(arg, ast.Starred) for arg in call.args[:index + 1]):
        return None
    return call.args[index] if index < len(call.args) else None
