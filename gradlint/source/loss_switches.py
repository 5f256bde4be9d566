"""An experiment's switch between probabilities and logits for one loss (GL215):
``if double_softmax: loss = criterion(F.softmax(z, 1), y) else: loss = criterion(z, y)``.
The arm that softmaxes is chosen on purpose (an ablation run off by default); the other arm
is the ordinary training, so the mismatch is no slip of the model's code."""

from __future__ import annotations

import ast

from gradlint.source.names import dotted


def logits_in_other_arm(call: ast.Call, activation: ast.AST, parents: dict) -> bool:
    """``call`` feeds a loss ``activation`` (``F.softmax(z, 1)``, written in the call) in one arm
    of an ``if`` whose other arm calls the same loss on ``z`` itself."""
    if not (isinstance(activation, ast.Call) and activation.args and call.args and call.args[0] is activation):
        return False
    logits = dotted(activation.args[0])
    loss = dotted(call.func)
    child: ast.AST = call
    while (parent := parents.get(child)) is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(parent, ast.If) and (child in parent.body or child in parent.orelse):
            other = parent.orelse if child in parent.body else parent.body
            return bool(logits and loss) and any(
                isinstance(node, ast.Call) and dotted(node.func) == loss and node.args and dotted(node.args[0]) == logits
                for stmt in other for node in ast.walk(stmt))
        child = parent
    return False
