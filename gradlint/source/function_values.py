"""What a name holds inside one function, read from ``ast``: the nodes of the function
itself (not of its nested functions), and the one value a name holds where it is read."""

from __future__ import annotations

import ast
from typing import Optional


def own_nodes(function: ast.AST) -> list[ast.AST]:
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


def last_assigned(function: ast.AST, name: ast.Name) -> Optional[ast.expr]:
    """The value ``name`` holds where it is read: the one value assigned to it, or, when it
    is assigned several times (``c = self.fc(x); c = self.softmax(c)``), the last plain
    assignment before the read in the same block, with nothing after it in that block
    that could change it."""
    assignments = [
        node for node in own_nodes(function)
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign))
        and any(isinstance(t, ast.Name) and t.id == name.id for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
    ]
    if len(assignments) == 1:
        return assignments[0].value
    for statement in reversed(statements_before(function, name)):
        if statement in assignments:
            return statement.value if isinstance(statement, ast.Assign) and len(statement.targets) == 1 else None
        if any(isinstance(n, ast.Name) and n.id == name.id and isinstance(n.ctx, ast.Store) for n in ast.walk(statement)):
            return None  # a branch or loop of the block assigns it too
    return None


def statements_before(function: ast.AST, name: ast.expr) -> list[ast.stmt]:
    """The statements that run before the one reading ``name``: those before it in its
    block, after those before the block's own statement in the enclosing block, and so on
    out to the function's body (``c = softmax(c)`` then ``if not flag: return c``)."""
    before: list[ast.stmt] = []
    stack: list[list[ast.stmt]] = [getattr(function, "body", [])]
    while stack:
        body = stack.pop()
        for index, statement in enumerate(body):
            if any(node is name for node in ast.walk(statement)):
                before.extend(body[:index])
                if isinstance(statement, (ast.Return, ast.Assign, ast.Expr)):
                    return before
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(statement, field, None)
                    if isinstance(inner, list):
                        stack.append(inner)
                for handler in getattr(statement, "handlers", []):
                    stack.append(handler.body)
                break
    return []
