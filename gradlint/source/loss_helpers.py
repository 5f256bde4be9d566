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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Union

from gradlint.source.call_arguments import is_static
from gradlint.source.endings import Ending, FinalActivation
from gradlint.source.function_values import own_nodes
from gradlint.source.held_locals import local_aliases
from gradlint.source.loss_classes import LossClass, project_loss_classes
from gradlint.source.index import FileIndex, file_stamp, read_text
from gradlint.source.names import collect_aliases, dotted, qualify
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.output_flow import LOSSES, loss_of, model_outputs, output_of, own_calls
from gradlint.source.project_functions import project_import_list
from gradlint.source.torch_calls import torch_calls
from gradlint.source.unit import SourceUnit, call_spelling

Parameter = tuple[int, str]  # position, name
# the model a method of its own class trains (``evaluator.fit(loader, F.nll_loss, opt)``: ``self``)
RECEIVER: Parameter = (-1000, "self")


@dataclass(frozen=True)
class LossHelper:
    """A module-level function that calls a loss on the output of a model parameter."""

    function: str
    model: Parameter  # the parameter holding the model
    position: Optional[int]  # the element of the model's output the loss gets; None: all of it
    loss: Union[Parameter, str]  # the parameter holding the loss, or the loss it builds itself
    line: int  # the loss call
    path: Optional[str] = None  # its module as seen from the linted file's folder; None: that file
    trains: bool = True  # it (or the helper it hands the model to) calls backward(): not an evaluation
    # a method whose loss its class was built with: the constructor's parameter (``Trainer(loss_func=...)``)
    loss_at_init: Optional[Parameter] = None
    # the loss call itself (the innermost helper's), where the output meets the loss
    node: Optional[ast.Call] = field(default=None, compare=False, hash=False)

    @property
    def where(self) -> str:
        if not self.line:  # a library's training function
            return str(self.path)
        return f"{self.path}:{self.line}" if self.path else f"line {self.line}"


Helpers = dict[str, tuple[LossHelper, ...]]  # by the name the file calls the function


def file_helpers(tree: ast.Module, names: dict[int, str], imported: Optional[Helpers] = None,
                 classes: Optional[dict[str, LossClass]] = None, wrapped: Optional[dict[str, str]] = None) -> Helpers:
    """The module-level functions of ``tree`` that call a loss on a model parameter's output
    (``names``: the qualified torch name of each call, by node id), also by handing it to a
    helper of the file or to one of ``imported`` (those of the project modules it imports).
    ``wrapped``: functions of the file applying a loss to their first argument, by name
    (``distillation_loss(outputs, teacher_outputs, labels)``), read as that loss."""
    aliases = collect_aliases(tree)
    module_losses = {**(wrapped or {}), **bound_losses(tree.body, names, aliases)}
    functions = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.args.args]
    found: Helpers = {}
    for function in functions:
        helpers = _helpers(function, names, aliases, module_losses)
        if helpers:
            found[function.name] = helpers
    for cls in (node for node in tree.body if isinstance(node, ast.ClassDef)):
        for helper in _class_helpers(cls, names, aliases, module_losses, classes or {}):  # by Trainer or Trainer.fit
            found[helper.function] = (*found.get(helper.function, ()), helper)
    # a trainer class's method handing its model and loss on (``Trainer.train(self, model, crit)``
    # building ``IgniteEngine(IgniteEngine.train, model, crit, ...)``): the call passes no self
    methods = [(f"{cls.name}.{method.name}", method) for cls in tree.body if isinstance(cls, ast.ClassDef)
               for method in cls.body if isinstance(method, ast.FunctionDef) and len(method.args.args) > 1
               and not is_static(method)]
    for _ in range(_ROUNDS):  # train_model(model, ..., criterion) -> forward_step(model, ..., criterion)
        known = {**(imported or {}), **found}
        passing = {f.name: helpers for f in functions if f.name not in found
                   and (helpers := _passing_helpers(f, known))}
        passing.update((name, helpers) for name, method in methods if name not in found
                       and (helpers := _passing_helpers(method, known, name, skip=1)))
        if not passing:
            break
        found.update(passing)
    return found


_ROUNDS = 3


def _passing_helpers(function: ast.FunctionDef, helpers: Helpers, name: str = "", skip: int = 0) -> tuple[LossHelper, ...]:
    """A function handing its own model parameter (and loss parameter) to a loss helper
    (``skip``: leading parameters a call does not pass, a method's ``self``)."""
    params = [a.arg for a in function.args.args][skip:]
    found: list[LossHelper] = []
    calls = sorted(own_calls(function), key=lambda c: (c.lineno, c.col_offset))
    for call, inner in ((call, inner) for call in calls for inner in helpers.get(dotted(call.func) or "", ())):
        model = argument(call, inner.model)
        if not (isinstance(model, ast.Name) and model.id in params):
            continue
        loss: Union[Parameter, str]
        if isinstance(inner.loss, str):
            loss = inner.loss
        else:
            given = argument(call, inner.loss)
            if not (isinstance(given, ast.Name) and given.id in params):
                continue
            loss = (params.index(given.id), given.id)
        found.append(LossHelper(name or function.name, (params.index(model.id), model.id), inner.position, loss, call.lineno,
                                trains=inner.trains or calls_backward(function), node=inner.node))
    return _distinct(found)


def _distinct(helpers: list[LossHelper]) -> tuple[LossHelper, ...]:
    """One helper per (model, output element, loss), at its first line."""
    seen: dict[tuple, LossHelper] = {}
    for helper in helpers:
        seen.setdefault((helper.model, helper.position, helper.loss), helper)
    return tuple(seen.values())


def bound_losses(statements: list[ast.stmt], names: dict[int, str], aliases: dict[str, str]) -> dict[str, str]:
    """``criterion = nn.CrossEntropyLoss()``, ``loss_fn = F.cross_entropy`` -> {name: loss}."""
    losses = {}
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                if (kind := loss_built(node.value, names, aliases)) is not None:
                    losses[node.targets[0].id] = kind
    return losses


def _helpers(function: ast.FunctionDef, names: dict[int, str], aliases: dict[str, str],
             module_losses: dict[str, str]) -> tuple[LossHelper, ...]:
    params = [a.arg for a in function.args.args]
    held = {name: (index, name) for index, name in enumerate(params)}
    local = {**module_losses, **bound_losses(function.body, names, aliases)}
    found = _helpers_in(function, function.name, held, local, names, calls_backward(function))
    # ``def run(config, model, ...): def train(data, label): ... F.cross_entropy(model(x), y)``:
    # a closure the helper calls runs the model it was given
    called = {dotted(call.func) for call in own_calls(function)}
    # (or one it returns: ``make_train_step(model, loss_fn, optimizer)`` hands back ``train_step``, its caller's step)
    returned = {node.value.id for node in own_nodes(function) if isinstance(node, ast.Return)
                and isinstance(node.value, ast.Name)}
    for closure in _closures(function):
        if closure.name in called or closure.name in returned:
            shadowed = {a.arg for a in closure.args.args} | {n.id for n in own_nodes(closure)
                                                             if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            kept = {name: parameter for name, parameter in held.items() if name not in shadowed}
            found += _helpers_in(closure, function.name, kept, local, names, calls_backward(closure))
    return _distinct(list(found))


def _helpers_in(function: ast.FunctionDef, owner: str, held: dict[str, Parameter], losses: dict[str, str],
                names: dict[int, str], trains: bool) -> tuple[LossHelper, ...]:
    """The loss calls of ``function`` on the output of a name ``held`` for a parameter of
    ``owner`` (``net`` of ``train(net, ...)``, ``self.model`` set from ``Trainer(model, ...)``)."""
    held = {**held, **local_aliases(function, held)}
    # each such name stands for a model whose output is itself; the loss call tells which it is
    stand_ins: dict[str, Ending] = {name: {None: FinalActivation(name, "parameter", function)} for name in held}
    losses = {**losses, **{name: f"@{name}" for name in held if name not in losses}}
    assigned = model_outputs(function, stand_ins)
    found: list[LossHelper] = []
    for call in sorted(own_calls(function), key=lambda c: (c.lineno, c.col_offset)):
        loss = loss_of(call, names, losses)
        if loss is None or not call.args:
            continue
        output = output_of(call.args[0], stand_ins, assigned)
        if output is None or None not in output[0]:
            continue
        model = held[output[0][None].model]
        given = held[loss[1:]] if loss.startswith("@") else loss
        if given != model:
            found.append(LossHelper(owner, model, output[1], given, call.lineno, trains=trains, node=call))
    return _distinct(found)


def _closures(function: ast.FunctionDef) -> list[ast.FunctionDef]:
    """The functions defined in ``function``'s own body (not in those functions)."""
    return [node for parent in [function, *own_nodes(function)] for node in ast.iter_child_nodes(parent)
            if isinstance(node, ast.FunctionDef)]


def _class_helpers(cls: ast.ClassDef, names: dict[int, str], aliases: dict[str, str],
                   module_losses: dict[str, str], classes: dict[str, LossClass]) -> tuple[LossHelper, ...]:
    """``class Trainer: def __init__(self, model, criterion): self.model = model; ...`` and a
    method calling ``self.criterion(self.model(x), y)``: building ``Trainer(net, nn.CrossEntropyLoss())``
    links the two (the loss may also be built in ``__init__``)."""
    init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
    params = [a.arg for a in init.args.args[1:]] if init is not None else []  # the call passes no self
    held: dict[str, Parameter] = {}
    losses: dict[str, str] = dict(module_losses)
    for node in ast.walk(init) if init is not None else ():
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and (target := dotted(node.targets[0])):
            if not target.startswith("self.") or target.count(".") != 1:
                continue
            held_value = unwrap(node.value)  # self.model = model.to(device)
            if isinstance(held_value, ast.Name) and held_value.id in params:
                held[target] = (params.index(held_value.id), held_value.id)
            elif (kind := loss_built(node.value, names, aliases)) is not None:
                losses[target] = kind
            elif isinstance(held_value, ast.Call) and (made := classes.get(dotted(held_value.func) or "")) \
                    and (kind := made.built(held_value)) is not None:
                losses[target] = kind  # self.gan_criterion = GANLoss(gan_mode="vanilla"): a loss class of the project
    methods = [m for m in cls.body if isinstance(m, ast.FunctionDef) and m is not init and m.args.args]
    training = _training_methods(cls)
    found = [helper for method in methods if held
             for helper in _helpers_in(method, cls.name, _as_receiver(method, held), _as_receiver(method, losses), names,
                                       method.name in training)]
    # ``trainer.update_weights(model, ...)``: a method given the model, and the loss the method is
    # given, its class builds, or its class was built with (marked by a negative position here)
    at_init = {name: (-1 - index, param) for name, (index, param) in held.items()}
    module = any(isinstance(m, ast.FunctionDef) and m.name == "forward" for m in cls.body)
    for method in methods:
        own = {name: (index, name) for index, name in enumerate(a.arg for a in method.args.args[1:])}
        # a model's own training method (``def fit(self, loader, criterion)``: ``criterion(self(x), y)``)
        itself = {method.args.args[0].arg: RECEIVER} if module and method.name != "forward" else {}
        for helper in _helpers_in(method, f"{cls.name}.{method.name}", {**at_init, **itself, **own}, losses, names,
                                  method.name in training):
            if helper.model == RECEIVER:
                if isinstance(helper.loss, str) or helper.loss[0] >= 0:
                    found.append(helper)
                continue
            if helper.model[0] < 0:
                continue  # the class's own model: the constructor links it (above)
            if isinstance(helper.loss, tuple) and helper.loss[0] < 0:
                found.append(replace(helper, loss="", loss_at_init=(-1 - helper.loss[0], helper.loss[1])))
            else:
                found.append(helper)
    return _distinct(found)


def _as_receiver(method: ast.FunctionDef, held: dict) -> dict:
    """``held`` as a static method sees it through its first parameter: an Ignite ``Engine``
    subclass's ``def train(engine, batch)`` is called with the engine, ``engine.model``."""
    static = is_static(method)
    first = method.args.args[0].arg if method.args.args else "self"
    if not static or first == "self":
        return held
    return {first + name[len("self"):] if name.startswith("self.") else name: value for name, value in held.items()}


def _training_methods(cls: ast.ClassDef) -> set[str]:
    """The methods of ``cls`` that train: those calling backward() (Lightning calls it on what
    ``training_step`` returns), and those such a method calls as ``self.<name>(...)`` (a
    ``compute_loss`` its training loop uses); an evaluation method no training method
    calls is not one."""
    methods = [m for m in cls.body if isinstance(m, ast.FunctionDef)]
    training = {m.name for m in methods if calls_backward(m) or m.name == "training_step"}
    for method in methods:
        if method.name in training and method.args.args:
            own = method.args.args[0].arg
            training |= {name[len(own) + 1:] for call in own_calls(method)
                         if (name := dotted(call.func) or "").startswith(own + ".") and "." not in name[len(own) + 1:]}
    return training


def loss_built(value: ast.expr, names: dict[int, str], aliases: dict[str, str]) -> Optional[str]:
    value = unwrap(value)  # nn.NLLLoss().to(device)
    qualified = names.get(id(value)) if isinstance(value, ast.Call) else qualify(value, aliases)
    return LOSSES.get(qualified or "")


def calls_backward(function: ast.FunctionDef) -> bool:
    """``function`` itself (not a function nested in it) calls ``.backward()``."""
    return any(isinstance(call.func, ast.Attribute) and call.func.attr == "backward" for call in own_calls(function))


# training functions of libraries that apply the loss they are given to the model they are given
_LIBRARY_HELPERS = {
    "ignite.engine.create_supervised_trainer":
        LossHelper("create_supervised_trainer", (0, "model"), None, (2, "loss_fn"), 0, path="PyTorch-Ignite"),
}


def library_helpers(tree: ast.Module) -> Helpers:
    """The library training functions of :data:`_LIBRARY_HELPERS` the file calls, by the name
    it calls them (``create_supervised_trainer(model, optimizer, loss_fn)``)."""
    aliases = collect_aliases(tree)
    return {spelled: (_LIBRARY_HELPERS[qualified],) for node in ast.walk(tree) if isinstance(node, ast.Call)
            and (qualified := qualify(node.func, aliases) or "") in _LIBRARY_HELPERS
            and (spelled := dotted(node.func))}


def imported_helpers(tree: ast.Module, text: str, script: Path, base: Optional[str] = None,
                     depth: int = 0) -> Helpers:
    """The loss helpers of project modules the file imports and calls, by the name it calls
    them: ``train`` (``from engine import train``) or ``engine.train`` (``import engine``).
    ``base``: the folder the helpers' paths are shown from (the linted file's); ``depth``: how
    many modules away from it ``tree`` is."""
    text = call_spelling(text)
    found: Helpers = {}
    base = base or str(script.resolve().parent)
    for item in project_import_list(tree, script):
        if item.name == "." and f"{item.local}." not in text or item.name not in ".*" and f"{item.local}(" not in text:
            continue  # most imports are of something the file does not call
        for name, helpers in _module_helpers(str(item.path), file_stamp(item.path), base, depth).items():
            owner, dot, method = name.partition(".")  # Trainer.fit: a method of an imported class
            spelled = (name if item.name == "*" else f"{item.local}.{name}" if item.name == "."
                       else item.local + dot + method if owner == item.name else None)
            called = f"{item.local}.{owner}(" if item.name == "." else f"{(spelled or '').split('.')[0]}("
            if spelled is not None and called in text:
                found[spelled] = helpers
        if item.name == "*":  # from utils import *: the package's __init__ re-exports its modules' helpers
            for name, helpers in _reexported_helpers(item.path, base, depth).items():
                if f"{name}(" in text:
                    found.setdefault(name, helpers)
    return found


def _reexported_helpers(module: Path, base: str, depth: int = 0) -> Helpers:
    """The loss helpers a module imports from project modules by name (``from .forward
    import epoch_controler`` in a package's ``__init__``), by the name it binds."""
    unit = SourceUnit.read_parsed(str(module))
    found: Helpers = {}
    if unit is None or unit.tree is None:
        return found
    index = FileIndex()
    for node in unit.tree.body:
        if isinstance(node, ast.ImportFrom) and (node.level or node.module):
            source = index.resolve_import(module, node.module or "", node.level)
            if source is None:
                continue
            helpers = _module_helpers(str(source), file_stamp(source), base, depth)
            for alias in node.names:
                if alias.name in helpers:
                    found[alias.asname or alias.name] = helpers[alias.name]
    return found


_TRAINS = (".backward(", "manual_backward(", "def training_step(")
LOSS_WORDS = tuple(name.rsplit(".", 1)[-1] for name in LOSSES)
_NESTED = 1  # a module's helpers may hand the model to those of the modules it imports, one level on


@functools.lru_cache(maxsize=256)
def _module_helpers(path: str, stamp: tuple[int, int], script_dir: str, depth: int = 0) -> Helpers:
    """The loss helpers of one project module (``depth`` modules away from the linted file);
    one that never calls backward() nor hands its model to a module that does holds none
    that train, and is read no further."""
    trains_here = any(word in read_text(Path(path)) for word in _TRAINS)
    if not trains_here and depth >= _NESTED:
        return {}
    unit = SourceUnit.read_parsed(path)
    if unit is None or unit.tree is None:
        return {}
    # ``def main_train(model_net, ...): model = LitNet(model_net)`` with ``from mgr.models import LitNet``
    imported = imported_helpers(unit.tree, unit.text, Path(path), script_dir, depth + 1) if depth < _NESTED else {}
    if not trains_here and not imported:
        return {}
    shown = os.path.relpath(Path(path).resolve(), script_dir)
    names = {id(c.node): c.name for c in torch_calls(unit).calls}
    return {name: tuple(h if h.path else replace(h, path=shown) for h in helpers)
            for name, helpers in file_helpers(unit.tree, names, imported, project_loss_classes(unit.tree, Path(path))).items()
            if name not in imported}


def argument(call: ast.Call, parameter: Parameter) -> Optional[ast.expr]:
    """What ``call`` passes for a parameter (by keyword or position; the receiver of a
    method call for :data:`RECEIVER`)."""
    index, name = parameter
    if parameter == RECEIVER:
        return call.func.value if isinstance(call.func, ast.Attribute) else None
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if any(isinstance(arg, ast.Starred) for arg in call.args[:index + 1]):
        return None
    return call.args[index] if index < len(call.args) else None
