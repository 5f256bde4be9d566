"""Calls that cannot run because the project function they call does not take what they
pass: ``models.feature_model(pretrained=True, requires_grad=False)`` of ``def
feature_model(requires_grad):`` raises ``TypeError`` before it builds (or freezes) anything.
Read from the callee's source; a callee this cannot find is taken to accept the call."""

from __future__ import annotations

import ast
from typing import Optional, Union

from gradlint.source.unit import SourceUnit

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]


def refuses_keywords(call: ast.Call, name: str, path: str) -> bool:
    """``call`` passes a keyword that ``name`` (a module-level function of the file ``path``,
    or a class there, by its ``__init__``) has no parameter for, and it takes no ``**kwargs``."""
    defined = _signature(name, path)
    if defined is None or defined.args.kwarg is not None:
        return False
    accepted = {a.arg for a in (*defined.args.args, *defined.args.kwonlyargs)}
    return any(keyword.arg is not None and keyword.arg not in accepted for keyword in call.keywords)


def _signature(name: str, path: str) -> Optional[Function]:
    read = SourceUnit.read_parsed(path)
    tree = read.tree if read is not None else None
    if tree is None or "." in name:
        return None
    found: Optional[Function] = None
    for node in tree.body:  # (the last definition of the name is the one a call runs)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            found = node
        elif isinstance(node, ast.ClassDef) and node.name == name:
            found = None if node.decorator_list else next(
                (item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)
    # (a decorator may hand the call on with other parameters: ``@gin.configurable``)
    return None if found is None or found.decorator_list else found
