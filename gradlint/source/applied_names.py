"""Names a function binds to an activation applied right there (GL215): ``probs =
torch.sigmoid(out)`` before ``criterion(probs, y)``, or a buffer filled row by row with
one (``total = torch.zeros(n, 3)``; ``total[i] = self.softmax(self.linear(h))``, a
constant one-hot row for an empty input), then fed to the loss."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.activations import applied_activation
from gradlint.source.endings import FinalActivation
from gradlint.source.function_values import last_assigned, own_nodes, statements_before


def applied_names(function: ast.AST, names: dict[int, str], layer_names: dict[str, str]) -> dict[str, FinalActivation]:
    """Names this function binds once, to an activation applied right there: ``probs = torch.sigmoid(out)``."""
    bound: dict[str, list[ast.expr]] = {}
    filled: dict[str, list[ast.expr]] = {}  # preds[i] = self.softmax(...): a buffer of probabilities
    params = {a.arg for a in function.args.args} if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) else set()
    for node in own_nodes(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bound.setdefault(node.targets[0].id, []).append(node.value)
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript) \
                and isinstance(node.targets[0].value, ast.Name):
            filled.setdefault(node.targets[0].value.id, []).append(node.value)
    found = {}
    for name, values in bound.items():  # a parameter rebound holds the caller's value before that
        if len(values) == 1 and name not in params and (kind := applied_activation(values[0], names, layer_names)):
            found[name] = FinalActivation(f"{name} = {short_text(values[0])}", kind, values[0], inline=True)
        elif len(values) == 1 and name not in params and names.get(id(values[0])) in _EMPTY and name in filled:
            # ``total = torch.zeros(n, 3)``, then each row a softmax (or a constant row): probabilities
            kinds = {applied_activation(value, names, layer_names) for value in filled[name]
                     if not _constant_row(value, names)}
            applied = [value for value in filled[name] if applied_activation(value, names, layer_names)]
            if len(kinds) == 1 and None not in kinds and applied:
                found[name] = FinalActivation(f"{name}[...] = {short_text(applied[0])}", kinds.pop() or "", applied[0],
                                              inline=True)
    return found


def rebound_activation(function: ast.AST, fed: ast.expr, call: ast.Call, names: dict[int, str],
                       layers: dict[str, str]) -> Optional[FinalActivation]:
    """The activation a name (also a parameter) holds where ``call`` reads it, when its last
    binding among the statements that run before the call applies one: ``x =
    self.linear(x)``; ``x = self.softmax(x)``; ``return self.ce(x, y)``."""
    if not isinstance(fed, ast.Name) or not isinstance(function, (ast.FunctionDef, ast.Module)):
        return None  # (a script's training loop too: ``out = model(x)``; ``out = torch.sigmoid(out)``)
    value = last_assigned(function, fed)
    if not isinstance(value, ast.Call) or not any(isinstance(statement, ast.Assign) and statement.value is value
                                                  for statement in statements_before(function, fed)):
        return None  # bound after the read, or only in a branch
    kind = applied_activation(value, names, layers)
    return FinalActivation(f"{fed.id} = {short_text(value)}", kind, value, inline=True) if kind else None


_EMPTY = {"torch.zeros", "torch.empty", "torch.ones", "torch.zeros_like", "torch.empty_like"}


def _constant_row(value: ast.expr, names: dict[int, str]) -> bool:
    """``torch.tensor([0, 0, 1])``: a row written out as numbers."""
    rows = value.args if isinstance(value, ast.Call) else []
    return names.get(id(value)) == "torch.tensor" and bool(rows) and isinstance(rows[0], ast.List) \
        and all(isinstance(e, ast.Constant) for e in rows[0].elts)


def short_text(node: ast.AST) -> str:
    """The source of ``node``, cut to 40 characters for a message."""
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."
