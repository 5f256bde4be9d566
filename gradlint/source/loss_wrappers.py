"""Functions that compute a loss from an argument they are given (GL215): ``def
compute_loss(out, y): return criterion(out, y)``, or a tuple of losses (``def
eval_loss(validity, real, label_pred, label): return bce(validity, real), nll(label_pred,
label)``), in the linted file or imported from a project module. ``compute_loss(model(x),
y)`` feeds the model's output to that loss as ``criterion(model(x), y)`` would."""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from typing import Optional

from gradlint.source.activations import RESHAPES
from gradlint.source.function_values import own_nodes
from gradlint.source.index import file_stamp
from gradlint.source.loss_helpers import bound_losses, loss_built
from gradlint.source.names import collect_aliases, dotted
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.output_flow import loss_of
from gradlint.source.project_functions import project_import_list
from gradlint.source.torch_calls import torch_calls
from gradlint.source.unit import SourceUnit, call_spelling

# by the name it is called: (loss, the argument's position, the parameter's name) of each loss
Wrappers = dict[str, list[tuple[str, int, str]]]


def loss_wrappers(tree: ast.Module, names: dict[int, str], losses: dict[str, str]) -> Wrappers:
    """Functions and methods that apply a loss of the table to one of their arguments
    (``def adversarial_loss(self, y_hat, y): return F.binary_cross_entropy_with_logits(y_hat, y)``,
    also ``cls_loss = F.binary_cross_entropy_with_logits(input=out_cls.squeeze(), ...)`` in a
    function summing several losses), or several such losses (``return bce(validity, real),
    nll(label_pred, label)``), by the name they are called: ``adversarial_loss`` or
    ``self.adversarial_loss``."""
    found: Wrappers = {}
    classes = {id(item) for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef) for item in cls.body}
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        method = id(function) in classes
        params = [a.arg for a in function.args.args][1 if method else 0:]
        if not params:
            continue
        calls = sorted((node for node in own_nodes(function) if isinstance(node, ast.Call)),
                       key=lambda node: (node.lineno, node.col_offset))
        pairs: list[tuple[str, int, str]] = []
        for call in calls:
            first = _fed_name(loss_input(call))
            if first is not None and first in params and (loss := loss_of(call, names, losses)) is not None \
                    and (loss, params.index(first), first) not in pairs:
                pairs.append((loss, params.index(first), first))
        if pairs:
            found[f"self.{function.name}" if method else function.name] = pairs
    return found


_RESHAPES = RESHAPES | {"cuda"}  # (a tensor moved or reshaped keeps what its values are)


def loss_input(call: ast.Call) -> Optional[ast.expr]:
    """What a loss call is fed: its first argument, or ``input=``."""
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "input"), None)


def _fed_name(value: Optional[ast.expr]) -> Optional[str]:
    """The parameter a loss input is: ``out``, ``out.squeeze()``, ``out.view(-1)``."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _RESHAPES:
        value = value.func.value
    return value.id if isinstance(value, ast.Name) else None


def fed_losses(call: ast.Call, names: dict[int, str], losses: dict[str, str], wrappers: Wrappers,
               rebound: Optional["Rebound"] = None, frame: Optional[ast.AST] = None) -> list[tuple[str, ast.expr]]:
    """Each loss ``call`` computes with what it is fed: ``criterion(out, y)`` -> [(CE, out)],
    ``both_losses(v, real, label_pred, y)`` -> [(BCE, v), (NLLLoss, label_pred)], also by
    keyword (``multiloss(output_cls=probs, ...)``). A name bound to several losses is read
    from its binding before the call (``rebound``, in ``frame``)."""
    wrapped = wrappers.get(dotted(call.func) or "", [])
    loss = loss_of(call, names, losses) if not wrapped else None
    if loss is not None and rebound is not None and frame is not None:
        loss = rebound.loss_at(dotted(call.func) or "", call.lineno, frame, loss)
    if loss is not None:
        fed = loss_input(call)
        return [(loss, fed)] if fed is not None else []
    found = []
    for loss, index, parameter in wrapped:
        given = call.args[index] if index < len(call.args) else \
            next((k.value for k in call.keywords if k.arg == parameter), None)
        if given is not None:
            found.append((loss, given))
    return found


class Rebound:
    """Names of a file bound to a loss of the table and to something else (another loss,
    ``nn.MSELoss()``): ``loss_fn = nn.MSELoss(); loss_fn(F.softmax(logits, 1), y); ...;
    loss_fn = nn.CrossEntropyLoss()`` feeds the probabilities to MSELoss, not to the later loss."""

    def __init__(self, tree: ast.Module, names: dict[int, str], losses: dict[str, str]) -> None:
        aliases = collect_aliases(tree)
        found: dict[str, list[tuple[int, int, Optional[str]]]] = {}  # name -> (frame, line, loss or None)
        frames = [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]
        for frame in frames:
            for node in own_nodes(frame):
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and (name := dotted(node.targets[0])) in losses
                        and dotted(unwrap(node.value)) != name):  # loss_fn = loss_fn.cuda() keeps what it holds
                    kind = loss_built(node.value, names, aliases) or _other_loss(node.value, names)
                    if kind is not None:  # (``loss = self.criterion``: what it holds is not known here)
                        found.setdefault(name, []).append((id(frame), node.lineno, kind))
        self.tree = tree
        self.bindings = {name: sorted(bound, key=lambda b: b[1]) for name, bound in found.items()
                         if len({kind for _, _, kind in bound}) > 1}

    def loss_at(self, name: str, line: int, frame: ast.AST, loss: str) -> Optional[str]:
        """The loss ``name`` holds on ``line`` of ``frame``: its last binding before the line
        there, else the module's last; ``loss`` when it is bound one way only."""
        bound = self.bindings.get(name)
        if bound is None:
            return loss
        here = [kind for where, at, kind in bound if where == id(frame) and at < line]
        module = [kind for where, at, kind in bound if where == id(self.tree) and (frame is not self.tree or at < line)]
        kind = here[-1] if here else module[-1] if module else loss
        return None if kind == _OTHER else kind


_OTHER = "another loss"


def _other_loss(value: ast.expr, names: dict[int, str]) -> Optional[str]:
    """``nn.MSELoss()`` or ``F.l1_loss``: a torch loss outside GL215's table."""
    value = unwrap(value)
    qualified = names.get(id(value), "") if isinstance(value, ast.Call) else ""
    short = qualified.rsplit(".", 1)[-1]
    return _OTHER if qualified.startswith("torch.nn.") and (short.endswith("Loss") or short.endswith("_loss")) else None


def imported_wrappers(tree: ast.Module, text: str, script: Path) -> Wrappers:
    """The loss wrappers of project modules the file imports and calls: by name (``from
    acgan import eval_loss``) or through the module (``from pipeline import loss`` and
    ``loss.multiloss(...)``)."""
    text = call_spelling(text)
    found: Wrappers = {}
    for item in project_import_list(tree, script):
        if item.name == "." and f"{item.local}." in text:
            wrappers = _module_wrappers(str(item.path), file_stamp(item.path))
            found.update((f"{item.local}.{name}", pairs) for name, pairs in wrappers.items()
                         if f"{item.local}.{name}(" in text)
            continue
        if item.name in ".*" or f"{item.local}(" not in text:
            continue
        wrappers = _module_wrappers(str(item.path), file_stamp(item.path))
        if item.name in wrappers:
            found[item.local] = wrappers[item.name]
    return found


@functools.lru_cache(maxsize=256)
def _module_wrappers(path: str, stamp: tuple[int, int]) -> Wrappers:
    unit = SourceUnit.read_parsed(path)
    if unit is None or unit.tree is None or "return" not in unit.text:
        return {}
    names = {id(c.node): c.name for c in torch_calls(unit).calls}
    losses = bound_losses(unit.tree.body, names, collect_aliases(unit.tree))
    return {name: pairs for name, pairs in loss_wrappers(unit.tree, names, losses).items() if "." not in name}
