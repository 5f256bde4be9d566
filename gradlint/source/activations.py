"""What applies a softmax or sigmoid (GL215): a function (``F.softmax``), a tensor method
(``z.sigmoid()``, also through a reshape: ``F.softmax(z).view(-1, n)``), a layer
(``nn.Softmax()``), the last layer of an ``nn.Sequential`` (also an ``OrderedDict`` one),
and the names and class attributes bound to such layers; probabilities reshaped after they
are bound to a name, or averaged over another axis than the softmax's. Read from ``ast`` only."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.children_views import integer
from gradlint.source.function_values import last_assigned
from gradlint.source.names import dotted, torch_spelled
from gradlint.source.starred_layers import starred_last

FUNCTIONS = {
    "torch.softmax": "softmax", "torch.nn.functional.softmax": "softmax", "torch.special.softmax": "softmax",
    "torch.sigmoid": "sigmoid", "torch.nn.functional.sigmoid": "sigmoid", "torch.special.expit": "sigmoid",
}
LAYERS = {"torch.nn.Softmax": "softmax", "torch.nn.Sigmoid": "sigmoid"}
METHODS = {"softmax": "softmax", "sigmoid": "sigmoid"}  # tensor methods: x.softmax(-1)
# tensor methods that change only the shape or type: ``F.softmax(z).view(-1, n)`` is still probabilities
RESHAPES = frozenset({"view", "reshape", "view_as", "reshape_as", "squeeze", "unsqueeze", "flatten", "permute",
                       "transpose", "contiguous", "float", "double", "to", "type_as"})


def function_kind(value: ast.expr) -> Optional[str]:
    """softmax/sigmoid when ``value`` names the function itself, kept to be applied later:
    ``self.activation = torch.softmax`` (then ``self.activation(x, dim=1)``)."""
    name = dotted(value)
    return FUNCTIONS.get(torch_spelled(name)) if name is not None else None


def sequential_last(call: ast.Call) -> Optional[ast.expr]:
    """The last layer a ``Sequential`` call is given: its last argument, or the last pair's
    layer of ``nn.Sequential(OrderedDict([("fc", nn.Linear(84, 10)), ("softmax", nn.Softmax(1))]))``."""
    if not call.args:
        return None
    last = call.args[-1]
    if isinstance(last, ast.Starred):  # nn.Sequential(*layers): the list's last item, where it is known
        return starred_last(call)
    if (len(call.args) == 1 and isinstance(last, ast.Call) and (dotted(last.func) or "").endswith("OrderedDict")
            and len(last.args) == 1 and isinstance(pairs := last.args[0], (ast.List, ast.Tuple)) and pairs.elts):
        pair = pairs.elts[-1]
        return pair.elts[1] if isinstance(pair, ast.Tuple) and len(pair.elts) == 2 else None
    return last


def activation_layer(value: Optional[ast.expr], names: dict[int, str]) -> Optional[ast.expr]:
    """The ``nn.Softmax()``/``nn.Sigmoid()`` call ``value`` is or ends its ``Sequential`` with."""
    if not isinstance(value, ast.Call):
        return None
    if names.get(id(value)) in LAYERS:
        return value
    last = sequential_last(value) if names.get(id(value)) == "torch.nn.Sequential" else None
    return last if isinstance(last, ast.Call) and names.get(id(last)) in LAYERS else None


def activation_kind(node: Optional[ast.AST], names: dict[int, str], layers: dict[str, str]) -> Optional[str]:
    """softmax/sigmoid when ``node`` applies one: ``F.softmax(z, 1)``, ``z.sigmoid()``, ``self.act(z)``,
    ``nn.Softmax(dim=1)(z)`` (a layer built and applied at once)."""
    if not isinstance(node, ast.Call):
        return None
    qualified = names.get(id(node))
    if qualified == "torch.nn.parallel.data_parallel" and node.args and isinstance(node.args[0], ast.Attribute) \
            and dotted(node.args[0].value) == "self":
        return layers.get(node.args[0].attr)  # data_parallel(self.aux, h, range(ngpu)) runs self.aux(h)
    if qualified is not None:
        return FUNCTIONS.get(qualified)
    func = node.func
    if isinstance(func, ast.Call):
        return LAYERS.get(names.get(id(func), "")) if node.args else None
    if isinstance(func, ast.Name):  # softmax(x) with ``softmax = nn.Softmax(dim=-1)`` built in forward
        return layers.get(forward_local(func.id))
    if isinstance(func, ast.Attribute):
        if dotted(func.value) == "self":
            return layers.get(func.attr)
        if func.attr in RESHAPES and isinstance(func.value, ast.Call):
            return activation_kind(func.value, names, layers)
        return METHODS.get(func.attr)  # a tensor method: logits.softmax(-1), self.fc(x).sigmoid()
    return None


def forward_local(name: str) -> str:
    """The key under which a class's layers hold a name its forward binds to an activation layer."""
    return f"{name}()"


def applied_activation(node: ast.AST, names: dict[int, str], layer_names: dict[str, str]) -> Optional[str]:
    """softmax/sigmoid when ``node`` applies one to a tensor right there: ``torch.sigmoid(z)``,
    ``z.softmax(-1)``, ``nn.Sigmoid()(z)``, or ``act(z)`` with ``act = nn.Sigmoid()`` (``layer_names``)."""
    if not isinstance(node, ast.Call) or not (node.args or isinstance(node.func, ast.Attribute)):
        return None
    if isinstance(node.func, ast.Call):
        return LAYERS.get(names.get(id(node.func), ""))
    if (name := dotted(node.func)) in layer_names:  # act(z), or self.act(z) where the caller knows the class's layers
        return layer_names[str(name)]
    if isinstance(node.func, ast.Attribute) and dotted(node.func.value) == "self":
        return None  # a layer of a class: the class's ending says
    return activation_kind(node, names, {})


def activation_layers(tree: ast.AST, names: dict[int, str]) -> dict[str, str]:
    """Plain names bound to an activation layer anywhere in ``tree`` (``sigmoid = nn.Sigmoid()``)."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call)):
            value = node.value
            while isinstance(value.func, ast.Attribute) and value.func.attr in ("cuda", "to") and isinstance(value.func.value, ast.Call):
                value = value.func.value  # nn.Sigmoid().cuda()
            kind = LAYERS.get(names.get(id(value), ""))
            if kind:
                found[node.targets[0].id] = kind
    return found


def sequential_activation(call: ast.Call, names: dict[int, str],
                          local: Optional[dict[str, str]] = None) -> Optional[tuple[str, ast.expr]]:
    """``nn.Sequential(..., nn.Softmax())``, or one whose last item is a name ``local`` knows
    (``head = nn.Sequential(nn.Linear(h, n), nn.Softmax())`` built first)."""
    last = sequential_last(call) if names.get(id(call)) == "torch.nn.Sequential" else None
    if last is None:
        return None
    if isinstance(last, ast.Call):
        kind = LAYERS.get(names.get(id(last), ""))
    else:
        kind = (local or {}).get(last.id) if isinstance(last, ast.Name) else None
    return (kind, last) if kind else None


def local_layers(cls: ast.ClassDef, names: dict[int, str]) -> dict[str, str]:
    """Plain names the class's methods bind, once, to an activation layer or a Sequential ending in one."""
    kinds: dict[str, list[str]] = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            kind = ""
            if isinstance(value, ast.Call):
                sequential = sequential_activation(value, names)
                kind = LAYERS.get(names.get(id(value), "")) or (sequential[0] if sequential else "")
            kinds.setdefault(node.targets[0].id, []).append(kind)
    return {name: found[0] for name, found in kinds.items() if len(found) == 1 and found[0]}


def kept_activation(forward: ast.FunctionDef, value: ast.expr, names: dict[int, str],
                     layers: dict[str, str]) -> Optional[tuple[str, ast.expr]]:
    """(kind, where) when ``value`` reshapes probabilities bound to a name first, or averages
    softmax probabilities over another axis than the softmax's, which keeps them a
    distribution: ``probs = F.softmax(z, -1); return probs.mean(-2)`` (node probabilities
    averaged over a graph's nodes)."""
    for _ in range(4):
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
            return None
        inner: Optional[ast.expr] = value.func.value
        if isinstance(inner, ast.Name):
            inner = last_assigned(forward, inner)
        if inner is None:
            return None
        kind = activation_kind(inner, names, layers)
        if value.func.attr == "mean" and not (kind == "softmax" and _other_axis(value, inner, names)):
            return None
        if value.func.attr not in RESHAPES and value.func.attr != "mean":
            return None
        if kind is not None:
            return kind, inner
        value = inner
    return None


def _other_axis(mean: ast.Call, softmax: ast.expr, names: dict[int, str]) -> bool:
    """``x.mean(-2)`` of ``F.softmax(z, -1)``: both axes written as integers of one sign, and different."""
    def axis(call: ast.expr, position: int) -> Optional[int]:
        if not isinstance(call, ast.Call):
            return None
        return integer(next((k.value for k in call.keywords if k.arg == "dim"),
                            call.args[position] if len(call.args) > position else None))
    averaged = axis(mean, 0)
    # (``F.softmax(z, -1)`` takes its axis second; a tensor method, ``z.softmax(-1)``, first)
    kept = axis(softmax, 1 if names.get(id(softmax)) in FUNCTIONS else 0)
    return averaged is not None and kept is not None and (averaged < 0) == (kept < 0) and averaged != kept
