"""GL406: frozen modules that are momentum (EMA) copies of a trained one.

BYOL's target network, MoCo's key encoder and DINO's teacher are frozen to the optimiser
(``requires_grad = False``, ``torch.no_grad()``) but follow the online network by a moving
average of its weights, and their BatchNorm layers are meant to run in train mode with it:
they are not frozen feature extractors. The update reads like::

    for online, target in zip(self.online.parameters(), self.target.parameters()):
        target.data.mul_(m).add_(online.data, alpha=1 - m)    # or target.data = m * target.data + ...

:func:`momentum_targets` names the modules a file updates that way (``self.target``);
a one-time copy (``target.data.copy_(online.data)``) does not count.
"""

from __future__ import annotations

import ast

from gradlint.source.call_arguments import argument
from gradlint.source.freeze_forms import parameters_of
from gradlint.source.names import dotted

# in-place updates that blend a tensor with another (``p.mul_(m).add_(q)``, ``p.lerp_(q, w)``)
_BLENDS = ("mul_", "lerp_", "add_", "sub_")


def momentum_targets(tree: ast.AST) -> set[str]:
    """The modules (``self.teacher_head``, ``model_k``) whose parameters some loop of the file
    updates as a moving average of another module's parameters."""
    found: set[str] = set()
    for loop in ast.walk(tree):
        for inner in ast.walk(loop) if isinstance(loop, ast.For) else ():
            if not (isinstance(inner, ast.For) and isinstance(inner.iter, ast.Call) and dotted(inner.iter.func) == "zip"
                    and isinstance(inner.target, ast.Tuple) and len(inner.target.elts) == len(inner.iter.args)):
                continue
            for element, listed in zip(inner.target.elts, inner.iter.args):
                owner = parameters_of(listed)
                if owner and isinstance(element, ast.Name) and _blended(inner, element.id):
                    found.update(_paired(loop, owner) if inner is not loop and isinstance(loop, ast.For) else [owner])
    return found | _passed_to_updates(tree, found)


def _paired(outer: ast.For, name: str) -> list[str]:
    """The modules a loop variable takes in ``for online, target in ((self.encoder,
    self.target_encoder), (self.projector, self.target_projector)):``; [] for another loop."""
    if not (isinstance(outer.target, ast.Tuple) and isinstance(outer.iter, (ast.Tuple, ast.List))):
        return []
    names = [e.id if isinstance(e, ast.Name) else None for e in outer.target.elts]
    if name not in names:
        return []
    at = names.index(name)
    return [found for pair in outer.iter.elts if isinstance(pair, ast.Tuple) and len(pair.elts) == len(names)
            and (found := dotted(pair.elts[at]))]


def _passed_to_updates(tree: ast.AST, moved: set[str]) -> set[str]:
    """What the file passes to a function of its own that moves its parameter: ``def
    update_ema(ema_model, model): for e, p in zip(ema_model.parameters(), ...): ...`` called as
    ``update_ema(ema_teacher, student)`` (or ``update_momentum(self.backbone, self.backbone_momentum, m)``)
    moves ``ema_teacher``."""
    found: set[str] = set()
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = [a.arg for a in function.args.args]
        for index in [params.index(p) for p in params if p in moved]:
            for call in ast.walk(tree):
                if isinstance(call, ast.Call) and dotted(call.func) == function.name:
                    passed = argument(call, index, params[index])
                    if passed is not None and (name := dotted(passed)):
                        found.add(name)
    return found


def _blended(loop: ast.For, name: str) -> bool:
    """The loop's body moves ``name`` (a parameter) toward another tensor, reading its own value."""
    for node in ast.walk(loop):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _BLENDS:
            receiver = node.func.value
            if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute):
                receiver = receiver.func.value  # p.data.mul_(m).add_(...)
            if _is(receiver, name) and (node.func.attr != "add_" or _is_chained(node)):
                return True
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "copy_"
                and _is(node.func.value, name) and any(_is(n, name) for arg in node.args for n in ast.walk(arg))):
            return True  # p.data.copy_(m * p.data + (1 - m) * q.data)
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and _is(node.targets[0], name)
                and any(_is(n, name) for n in ast.walk(node.value) if isinstance(n, (ast.Name, ast.Attribute)))):
            return True  # p.data = m * p.data + (1 - m) * q.data
    return False


def _is(node: ast.AST, name: str) -> bool:
    """``node`` is the parameter ``name`` or its ``.data``."""
    return (isinstance(node, ast.Name) and node.id == name
            or isinstance(node, ast.Attribute) and node.attr == "data" and isinstance(node.value, ast.Name)
            and node.value.id == name)


def _is_chained(node: ast.Call) -> bool:
    """``p.mul_(m).add_(q)``: an ``add_`` on a ``mul_`` result (a bare ``p.add_(g)`` is an update step)."""
    receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
    return isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute) and receiver.func.attr == "mul_"
