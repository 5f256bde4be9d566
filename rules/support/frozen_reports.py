"""GL406's message parts and fix: how each kind of freeze is said, the line a freeze loop
is reported at, and the ``.eval()`` inserted after each train call."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.findings import Fix
from gradlint.fix.edits import insert_after, make_fix, standalone
from gradlint.source.frozen_norms import FileNorms, ModeCall

HOW = {
    "requires_grad": "its parameters are frozen here",
    "requires_grad_": "it is frozen here",
    "no_grad": "it runs under torch.no_grad() here and no optimiser takes its parameters",
    # in the optimiser, but every call of it in its class is under no_grad
    "no_grad_optimised": "it only ever runs under torch.no_grad(), here, so its parameters get no gradient",
    "optimizer": "only {part} is optimised here, so the rest never changes",
    "factory": "`{function}` ({where}) returns it with its parameters frozen",
    "imported": "it is frozen where it is built ({where}) and imported here",
    "factory_no_grad": "`{function}` builds it and runs it under torch.no_grad() in forward ({where})",
}


def report_line(loop: ast.For) -> ast.stmt | ast.expr:
    """A freeze loop is reported at the statement that freezes (``p.requires_grad = False``),
    where a reader looks for it; the ``for`` line when no single statement does."""
    for node in sorted((n for n in ast.walk(loop) if isinstance(n, (ast.Assign, ast.Expr))),
                       key=lambda n: (n.lineno, n.col_offset)):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad"
                                                 for t in node.targets)
                and not (isinstance(node.value, ast.Constant) and node.value.value is True)):
            return node
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "requires_grad_"):
            return node
    return loop.iter  # the `for` line, not the whole loop body


def fix_after_train(norms: FileNorms, target: str, left: list[ModeCall]) -> Optional[Fix]:
    unit = norms.frames.unit
    # not inside a helper reached through its parameter: other callers may pass other models
    if target.startswith("self.") or any(t.target == target or t.written or t.by or not isinstance(t.stmt, ast.Expr)
                                         or not standalone(unit, t.stmt) for t in left):
        return None
    edits = [insert_after(unit, t.stmt, [f"{local_name(t, target)}.eval()"]) for t in {id(t.stmt): t for t in left}.values()]
    return make_fix(f"call {local_name(left[0], target)}.eval() after {left[0].receiver}.train()", *edits)


def local_name(train: ModeCall, target: str) -> str:
    """The frozen module's name where the train call is (``net.f`` for ``model.f``)."""
    return train.receiver + target[len(train.target):]
