"""An experiment's switch between probabilities and logits for one loss (GL215):
``if double_softmax: loss = criterion(F.softmax(z, 1), y) else: loss = criterion(z, y)``.
The arm that softmaxes is chosen on purpose (an ablation run off by default); the other arm
is the ordinary training, so the mismatch is no slip of the model's code. And a loss helper
of a model class that the class calls only behind such a switch, off by default and turned
on by no call of the file: that loss never trains the model."""

from __future__ import annotations

import ast

from gradlint.source.call_arguments import argument
from gradlint.source.call_flags import guard_flag, guard_of
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


def behind_an_off_switch(call: ast.Call, parents: dict) -> bool:
    """``call`` is in a method its class calls only where a parameter of the calling method,
    off by default, is on (``self.margin_loss(x, y) if not ce_for_classifier else
    self.cross_entropy_loss(x, y)`` with ``ce_for_classifier=False``), nothing else in the file
    calls that method, and no call of the file turns the parameter on."""
    method: ast.AST = call
    while method in parents and not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
        method = parents[method]
    cls, tree = parents.get(method), method
    while tree in parents:
        tree = parents[tree]
    if not (isinstance(method, ast.FunctionDef) and isinstance(cls, ast.ClassDef)):
        return False
    uses = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == method.name]
    if not uses:
        return False
    for use in uses:
        caller: ast.AST = use
        while caller in parents and not isinstance(caller, (ast.FunctionDef, ast.AsyncFunctionDef)):
            caller = parents[caller]
        guard = guard_of(use, caller, parents) if isinstance(caller, ast.FunctionDef) else None
        if not (dotted(use.value) == "self" and isinstance(caller, ast.FunctionDef) and parents.get(caller) is cls
                and guard is not None and not guard.startswith("not ")):
            return False
        index, _, default = guard_flag(caller, guard, method=True)
        if default is not False:
            return False
        for other in ast.walk(tree):  # model.loss(..., ce_for_classifier=True) turns it on
            if isinstance(other, ast.Call) and isinstance(other.func, ast.Attribute) and other.func.attr == caller.name:
                passed = argument(other, index, guard)
                if passed is not None and not (isinstance(passed, ast.Constant) and not passed.value):
                    return False
    return True
