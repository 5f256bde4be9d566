"""Models whose output is raw logits (GL215's other direction): an ``nn.Sequential`` whose
last layer is ``nn.Linear``, or a class whose ``forward`` returns, on every path, the
output of an ``nn.Linear`` attribute (``return self.fc(x)``, ``x = self.out(x); return
x.squeeze(1)``). Fed to ``nn.BCELoss``, which expects probabilities, that output is
outside [0, 1].

Kept apart from :mod:`gradlint.source.endings` (the softmax/sigmoid endings): a name bound
to a softmax model on one branch and to a plain one on the other is a question for that
module; here a name counts only when every model it is bound to ends in ``nn.Linear``."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.activations import sequential_last
from gradlint.source.endings import Ending, FinalActivation
from gradlint.source.function_values import last_assigned, own_nodes
from gradlint.source.names import dotted
from gradlint.source.norm_knowledge import unwrap

_LINEAR = "torch.nn.Linear"
_SHAPE_METHODS = {"squeeze", "view", "reshape", "flatten", "unsqueeze"}  # x.squeeze(1) is still the logits
# losses that expect probabilities in [0, 1] (no sigmoid of their own)
PROBABILITY_LOSSES = {"BCELoss", "F.binary_cross_entropy"}


def logit_models(tree: ast.Module, names: dict[int, str], imported: Optional[dict[str, Ending]] = None,
                 scope: Optional[ast.AST] = None) -> dict[str, Ending]:
    """Names every binding of which is a model ending in ``nn.Linear`` (``model =
    nn.Sequential(..., nn.Linear(64, 1))``, ``net = Scorer().to(device)``, also a class of a
    project module, ``imported``: its logits by the name the file uses). ``scope``: as a
    function of the file sees them, its own bindings of a name, else the module's (another
    function's ``model = WideAndDeep()`` is its own local)."""
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    by_class = {**(imported or {}),
                **{name: logits for name, cls in classes.items() if (logits := class_logits(name, cls, names))}}
    found: dict[str, Ending] = {}
    others: set[str] = set()
    bindings: list[ast.AST] = list(ast.walk(tree))
    if scope is not None:
        local: list[ast.AST] = [node for node in own_nodes(scope) if isinstance(node, ast.Assign)]
        bound = {dotted(node.targets[0]) for node in local if isinstance(node, ast.Assign) and len(node.targets) == 1}
        bindings = local + [node for node in own_nodes(tree) if isinstance(node, ast.Assign) and len(node.targets) == 1
                            and dotted(node.targets[0]) not in bound]
    for node in bindings:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and (target := dotted(node.targets[0]))):
            continue
        value = unwrap(node.value)
        ending: Optional[Ending] = None
        if isinstance(value, ast.Call):
            callee = dotted(value.func) or ""
            if callee in by_class:
                ending = by_class[callee]
            elif _ends_in_linear(value, names):
                ending = {None: FinalActivation(target, "logits", value.args[-1])}
        if ending is None:
            others.add(target)
        else:
            found[target] = ending
    return {name: ending for name, ending in found.items() if name not in others}


def class_logits(name: str, cls: ast.ClassDef, names: dict[int, str]) -> Ending:
    """``{None: ...}`` when every ``return`` of ``forward`` is an ``nn.Linear`` attribute's output."""
    forward = next((item for item in cls.body if isinstance(item, ast.FunctionDef) and item.name == "forward"), None)
    if forward is None:
        return {}
    linear = _linear_attributes(cls, names)
    returns = [node for node in own_nodes(forward) if isinstance(node, ast.Return)]
    if not linear or not returns:
        return {}
    last: Optional[ast.expr] = None
    for node in returns:
        value = _through_shape(node.value, forward)
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                and dotted(value.func.value) == "self" and value.func.attr in linear):
            return {}
        last = value
    assert last is not None
    return {None: FinalActivation(name, "logits", last)}


def _through_shape(value: Optional[ast.expr], forward: ast.FunctionDef, depth: int = 0) -> Optional[ast.expr]:
    """What ``value`` is before shape-only steps and one-time local names: ``out.squeeze(1)``
    after ``out = self.fc(h)`` is ``self.fc(h)``."""
    if depth > 4 or value is None:
        return value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _SHAPE_METHODS:
        return _through_shape(value.func.value, forward, depth + 1)
    if isinstance(value, ast.Name):  # the value it holds where it is returned
        return _through_shape(last_assigned(forward, value), forward, depth + 1)
    return value


def _linear_attributes(cls: ast.ClassDef, names: dict[int, str]) -> set[str]:
    """``self.fc = nn.Linear(...)`` or ``self.head = nn.Sequential(..., nn.Linear(...))``,
    each attribute assigned once."""
    kinds: dict[str, list[bool]] = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and (target := dotted(node.targets[0]) or "").startswith("self."):
            value = node.value
            linear = isinstance(value, ast.Call) and (names.get(id(value)) == _LINEAR or _ends_in_linear(value, names))
            kinds.setdefault(target[len("self."):], []).append(linear)
    return {name for name, found in kinds.items() if found == [True]}


def _ends_in_linear(call: ast.Call, names: dict[int, str]) -> bool:
    last = sequential_last(call) if names.get(id(call)) == "torch.nn.Sequential" else None
    return isinstance(last, ast.Call) and names.get(id(last)) == _LINEAR
