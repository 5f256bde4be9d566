"""Models whose output is raw logits (GL215's other direction): an ``nn.Sequential`` whose
last layer is ``nn.Linear`` (or a convolution: a segmentation head's ``nn.Conv2d(c, 1, 1)``),
or a class whose ``forward`` returns, on every path, the output of such an attribute
(``return self.fc(x)``, ``x = self.out(x); return x.squeeze(1)``) or of a part that is an
instance of such a class (``self.net = UNet()``, ``return self.net(x)``). Fed to
``nn.BCELoss``, which expects probabilities, that output is outside [0, 1].

Kept apart from :mod:`gradlint.source.endings` (the softmax/sigmoid endings): a name bound
to a softmax model on one branch and to a plain one on the other is a question for that
module; here a name counts only when every model it is bound to ends in ``nn.Linear``."""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Optional

from gradlint.source.activations import sequential_last
from gradlint.source.class_attribute_values import self_attribute_values
from gradlint.source.endings import Ending, FinalActivation
from gradlint.source.function_values import last_assigned, own_nodes
from gradlint.source.names import dotted
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.output_flow import SELF_CALLS

# layers whose output, last in a model, is unbounded: raw logits (a transposed convolution
# is left out: a decoder ending in one is usually followed by a squashing step elsewhere)
_LOGIT_LAYERS = {"torch.nn.Linear": "nn.Linear", "torch.nn.Conv1d": "nn.Conv1d",
                 "torch.nn.Conv2d": "nn.Conv2d", "torch.nn.Conv3d": "nn.Conv3d"}
_SHAPE_METHODS = {"squeeze", "view", "reshape", "flatten", "unsqueeze"}  # x.squeeze(1) is still the logits
# losses that expect probabilities in [0, 1] (no sigmoid of their own)
PROBABILITY_LOSSES = {"BCELoss", "F.binary_cross_entropy"}


def logit_models(tree: ast.Module, names: dict[int, str], by_class: dict[str, Ending],
                 scope: Optional[ast.AST] = None) -> dict[str, Ending]:
    """Names every binding of which is a model ending in ``nn.Linear`` (``model =
    nn.Sequential(..., nn.Linear(64, 1))``, ``net = Scorer().to(device)``). ``by_class``: the
    classes whose output is logits, by the name the file uses (:func:`logit_classes` and
    those of project modules it imports). ``scope``: as a function of the file sees them, its
    own bindings of a name, else the module's (another function's ``model = WideAndDeep()``
    is its own local)."""
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
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
            elif layer := _sequential_logit_layer(value, names):
                ending = {None: FinalActivation(target, "logits", value.args[-1], layer=layer)}
        if ending is None:
            others.add(target)
        else:
            found[target] = ending
    found = {name: ending for name, ending in found.items() if name not in others}
    owner = next((cls for cls in classes.values() if scope in cls.body), None) if scope is not None else None
    if owner is not None and owner.name in by_class and isinstance(scope, ast.FunctionDef) and scope.args.args:
        own = scope.args.args[0].arg  # self(x) in a method of the class itself (a LightningModule's training_step)
        found.update((own + suffix, by_class[owner.name]) for suffix in SELF_CALLS)
    return found


def logit_classes(tree: ast.Module, names: dict[int, str], imported: Optional[dict[str, Ending]] = None) -> dict[str, Ending]:
    """The classes of the file whose output is raw logits: their own last layer's, or that of
    a part, an instance of such a class of the file or of ``imported`` (a part of a part too)."""
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    found = {name: logits for name, cls in classes.items() if (logits := class_logits(name, cls, names))}
    for _ in range(2):
        known = {**(imported or {}), **found}
        found.update((name, logits) for name, cls in classes.items()
                     if name not in found and (logits := class_logits(name, cls, names, known)))
    return found


def class_logits(name: str, cls: ast.ClassDef, names: dict[int, str], known: Optional[dict[str, Ending]] = None) -> Ending:
    """``{None: ...}`` when every ``return`` of ``forward`` is the output of a logit layer
    attribute or, with ``known`` (classes whose output is logits), of a part built from one."""
    forward = next((item for item in cls.body if isinstance(item, ast.FunctionDef) and item.name == "forward"), None)
    if forward is None:
        return {}
    layers = _logit_layer_attributes(cls, names)
    parts = _logit_parts(cls, known) if known else {}
    returns = [node for node in own_nodes(forward) if isinstance(node, ast.Return)]
    if not (layers or parts) or not returns:
        return {}
    last: Optional[FinalActivation] = None
    for node in returns:
        value = _through_shape(node.value, forward)
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and dotted(value.func.value) == "self"):
            return {}
        attribute = value.func.attr
        if attribute in layers:
            last = FinalActivation(name, "logits", value, layer=layers[attribute])
        elif attribute in parts:  # shown where the part's class makes its logits
            last = replace(parts[attribute], model=name)
        else:
            return {}
    assert last is not None
    return {None: last}


def _logit_parts(cls: ast.ClassDef, known: dict[str, Ending]) -> dict[str, FinalActivation]:
    """``self.net = UNet(...)``: attributes every value of which builds a class of ``known``."""
    parts = {}
    for attribute, values in self_attribute_values(cls).items():
        built = [known.get(dotted(value.func) or "", {}).get(None) if isinstance(value, ast.Call) else None
                 for value in values]
        if built and all(built) and (first := built[0]) is not None:
            parts[attribute] = first
    return parts


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


def _logit_layer_attributes(cls: ast.ClassDef, names: dict[int, str]) -> dict[str, str]:
    """``self.fc = nn.Linear(...)``, ``self.head = nn.Conv2d(16, 1, 1)`` or ``self.head =
    nn.Sequential(..., nn.Linear(...))``, each attribute assigned once: the layer's name."""
    kinds: dict[str, list[Optional[str]]] = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and (target := dotted(node.targets[0]) or "").startswith("self."):
            value = node.value
            layer = (_LOGIT_LAYERS.get(names.get(id(value), "")) or _sequential_logit_layer(value, names)) \
                if isinstance(value, ast.Call) else None
            kinds.setdefault(target[len("self."):], []).append(layer)
    return {name: found[0] for name, found in kinds.items() if len(found) == 1 and found[0]}


def _sequential_logit_layer(call: ast.Call, names: dict[int, str]) -> Optional[str]:
    """``nn.Linear`` for ``nn.Sequential(..., nn.Linear(64, 1))``; None when it ends otherwise."""
    last = sequential_last(call) if names.get(id(call)) == "torch.nn.Sequential" else None
    return _LOGIT_LAYERS.get(names.get(id(last), "")) if isinstance(last, ast.Call) else None
