"""Which activation a model of this file ends in, and which loss its output is fed to
(GL215). Read from one file's ``ast``: a ``forward`` whose every ``return`` is a softmax
or sigmoid (``F.softmax``, ``x.sigmoid()``, ``self.act(x)`` with ``self.act =
nn.Softmax(...)``), or an ``nn.Sequential`` whose last layer is one; then the loss calls
whose first argument is that model's output (``criterion(model(x), y)``, or ``out =
model(x)`` first).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Optional, Union

from gradlint.source.names import dotted
from gradlint.source.torch_calls import torch_calls
from gradlint.source.unit import SourceUnit

# qualified callee -> the activation it applies
_FUNCTIONS = {
    "torch.softmax": "softmax", "torch.nn.functional.softmax": "softmax", "torch.special.softmax": "softmax",
    "torch.sigmoid": "sigmoid", "torch.nn.functional.sigmoid": "sigmoid", "torch.special.expit": "sigmoid",
}
_LAYERS = {"torch.nn.Softmax": "softmax", "torch.nn.Sigmoid": "sigmoid"}
_METHODS = {"softmax": "softmax", "sigmoid": "sigmoid"}  # tensor methods: x.softmax(-1)
# qualified loss -> what it expects of its first argument
LOSSES = {
    "torch.nn.CrossEntropyLoss": "CrossEntropyLoss", "torch.nn.functional.cross_entropy": "F.cross_entropy",
    "torch.nn.NLLLoss": "NLLLoss", "torch.nn.functional.nll_loss": "F.nll_loss",
    "torch.nn.BCEWithLogitsLoss": "BCEWithLogitsLoss",
    "torch.nn.functional.binary_cross_entropy_with_logits": "F.binary_cross_entropy_with_logits",
}
_MOVES = {"to", "cuda", "cpu", "float", "double", "half", "train", "eval", "requires_grad_"}


@dataclass
class FinalActivation:
    """A model of the file whose output is an activation's."""

    model: str  # the class name, or the name a Sequential is bound to
    kind: str  # softmax | sigmoid
    node: Union[ast.stmt, ast.expr]  # where it is applied: the returned expression or the layer in the Sequential


@dataclass
class LossOfModel:
    """A loss call fed with a model's output."""

    activation: FinalActivation
    loss: str  # e.g. CrossEntropyLoss
    call: ast.Call


def losses_of_models(unit: SourceUnit) -> list[LossOfModel]:
    """Every loss call of the file whose first argument is the output of a model of this
    file that ends in softmax or sigmoid."""
    if unit.tree is None or not any(word in unit.text for word in ("oftmax", "igmoid", "expit")):
        return []
    calls = torch_calls(unit)
    if not any(call.name in LOSSES for call in calls.calls):
        return []  # no loss of the table in this file: nothing to link
    names = {id(c.node): c.name for c in calls.calls}
    tree = unit.tree
    classes = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    by_class = {name: act for name, cls in classes.items() if (act := _class_activation(name, cls, names))}
    models: dict[str, FinalActivation] = {}  # bound name (model, self.net) -> its final activation
    losses: dict[str, str] = {}  # bound name (criterion) -> loss
    other_models: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and (target := dotted(node.targets[0])):
            value = _unwrap_moves(node.value)
            if not isinstance(value, ast.Call):
                continue
            callee = dotted(value.func) or ""
            if callee in by_class:
                models[target] = by_class[callee]
            elif (ending := _sequential_activation(value, names)) is not None:
                models[target] = FinalActivation(target, ending[0], ending[1])
            elif names.get(id(value)) in LOSSES:
                losses[target] = LOSSES[names[id(value)]]
            elif callee in classes or names.get(id(value)) == "torch.nn.Sequential":
                other_models.add(target)  # the name also holds a model without that ending
    for name in other_models:
        models.pop(name, None)
    found = []
    for function in [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]:
        assigned = _model_outputs(function, models)
        for call in _own_calls(function):
            loss = _loss_of(call, names, losses)
            if loss is None or not call.args:
                continue
            activation = _output_of(call.args[0], models, assigned)
            if activation is not None:
                found.append(LossOfModel(activation, loss, call))
    return found


def _loss_of(call: ast.Call, names: dict[int, str], losses: dict[str, str]) -> Optional[str]:
    qualified = names.get(id(call))
    if qualified in LOSSES:
        return LOSSES[qualified]
    if isinstance(call.func, ast.Call) and names.get(id(call.func)) in LOSSES:  # nn.CrossEntropyLoss()(out, y)
        return LOSSES[names[id(call.func)]]
    name = dotted(call.func)
    return losses.get(name) if name else None


def _output_of(node: ast.AST, models: dict[str, FinalActivation], assigned: dict[str, FinalActivation]) -> Optional[FinalActivation]:
    """The model whose output ``node`` is: ``model(x)``, ``model(x).squeeze(1)``, or a name assigned one."""
    while isinstance(node, ast.Call):
        callee = dotted(node.func)
        if callee in models:
            return models[callee]
        if not isinstance(node.func, ast.Attribute):
            return None
        node = node.func.value  # model(x).view(-1), out.squeeze()
    if isinstance(node, ast.Name):
        return assigned.get(node.id)
    return None


def _model_outputs(function: ast.AST, models: dict[str, FinalActivation]) -> dict[str, FinalActivation]:
    """Names this function (or module) assigns a model's output to, and only that."""
    outputs: dict[str, FinalActivation] = {}
    other: set[str] = set()
    for node in _own_nodes(function):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    activation = _output_of(node.value, models, {})
                    if activation is None:
                        other.add(target.id)
                    else:
                        outputs[target.id] = activation
    return {name: act for name, act in outputs.items() if name not in other}


def _own_nodes(function: ast.AST) -> list[ast.AST]:
    """The nodes of a function (or module) outside its nested functions and classes."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _own_calls(function: ast.AST) -> list[ast.Call]:
    return [node for node in _own_nodes(function) if isinstance(node, ast.Call)]


def _unwrap_moves(node: ast.AST) -> ast.AST:
    """``Net().to(device).float()`` -> ``Net()``."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MOVES:
        node = node.func.value
    return node


def _class_activation(name: str, cls: ast.ClassDef, names: dict[int, str]) -> Optional[FinalActivation]:
    forward = next((item for item in cls.body if isinstance(item, ast.FunctionDef) and item.name == "forward"), None)
    if forward is None:
        return None
    layers = _layer_attributes(cls, names)
    returns = [node for node in _own_nodes(forward) if isinstance(node, ast.Return)]
    if not returns or any(node.value is None for node in returns):
        return None
    kinds: list[tuple[str, ast.expr]] = []
    for node in returns:
        value = _last_assigned(forward, node.value) if isinstance(node.value, ast.Name) else node.value
        kind = _activation(value, names, layers)
        if kind is None or value is None:
            return None  # a path that returns something else (logits in training, a tuple)
        kinds.append((kind, value))
    if len({kind for kind, _ in kinds}) != 1:
        return None
    return FinalActivation(name, kinds[0][0], kinds[-1][1])


def _last_assigned(function: ast.FunctionDef, name: ast.Name) -> Optional[ast.expr]:
    """The value last assigned to ``name`` before it is returned, when it is assigned once."""
    values = [
        node.value for node in _own_nodes(function)
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
        and any(isinstance(t, ast.Name) and t.id == name.id for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
    ]
    return values[0] if len(values) == 1 else None


def _layer_attributes(cls: ast.ClassDef, names: dict[int, str]) -> dict[str, str]:
    """``self.act = nn.Softmax(dim=1)`` and ``self.head = nn.Sequential(..., nn.Sigmoid())`` -> act/head: kind."""
    layers: dict[str, str] = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.Call):
            target = dotted(node.targets[0]) or ""
            if not target.startswith("self."):
                continue
            sequential = _sequential_activation(node.value, names)
            kind = _LAYERS.get(names.get(id(node.value), "")) or (sequential[0] if sequential else "")
            attribute = target[len("self."):]
            # an attribute assigned anything else as well is not trusted
            layers[attribute] = kind if layers.get(attribute, kind) == kind else ""
    return {name: kind for name, kind in layers.items() if kind}


def _activation(node: Optional[ast.AST], names: dict[int, str], layers: dict[str, str]) -> Optional[str]:
    """softmax/sigmoid when ``node`` applies one: ``F.softmax(z, 1)``, ``z.sigmoid()``, ``self.act(z)``."""
    if not isinstance(node, ast.Call):
        return None
    qualified = names.get(id(node))
    if qualified is not None:
        return _FUNCTIONS.get(qualified)
    func = node.func
    if isinstance(func, ast.Attribute):
        if dotted(func.value) == "self":
            return layers.get(func.attr)
        return _METHODS.get(func.attr)  # a tensor method: logits.softmax(-1), self.fc(x).sigmoid()
    return None


def _sequential_activation(call: ast.Call, names: dict[int, str]) -> Optional[tuple[str, ast.expr]]:
    if names.get(id(call)) != "torch.nn.Sequential" or not call.args:
        return None
    last = call.args[-1]
    kind = _LAYERS.get(names.get(id(last), "")) if isinstance(last, ast.Call) else None
    return (kind, last) if kind else None
