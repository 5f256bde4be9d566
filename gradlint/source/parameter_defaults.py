"""The defaults a function's parameters declare: what a call that leaves one out gets, and
so what the function builds, freezes or picks unless told otherwise."""

from __future__ import annotations

import ast
from typing import Union

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]


def parameter_defaults(function: Function) -> dict[str, ast.expr]:
    """Each parameter with a default (positional or keyword-only) -> its default expression."""
    args = function.args
    positional = args.posonlyargs + args.args
    found = dict(zip((a.arg for a in positional[len(positional) - len(args.defaults):]), args.defaults))
    found.update((a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None)
    return found


def unassigned_defaults(function: Function) -> dict[str, ast.expr]:
    """:func:`parameter_defaults` less the parameters the body assigns (where one is read it
    may no longer hold its default)."""
    stored = {n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return {name: default for name, default in parameter_defaults(function).items() if name not in stored}
