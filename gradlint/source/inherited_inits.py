"""What a class of the file passes on to the ``__init__`` of a base class of the file:
``class DKD(Distiller): def __init__(self, student, teacher): super().__init__(student,
teacher)`` keeps ``self.teacher`` as ``Distiller.__init__`` does, with what ``DKD(s, t)``
is given. A class without an ``__init__`` of its own runs its base's with its own call."""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from gradlint.source.call_arguments import argument
from gradlint.source.names import dotted


def base_inits(cls: ast.ClassDef, classes: dict[str, ast.ClassDef],
               built: Optional[ast.Call]) -> Iterator[tuple[ast.ClassDef, Optional[ast.Call]]]:
    """Each base class of the file, with the call its ``__init__`` gets for ``built``
    (None when the arguments are not known)."""
    init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
    for base in cls.bases:
        parent = classes.get((dotted(base) or "").rsplit(".", 1)[-1])
        if parent is None or parent is cls:
            continue
        if init is None:  # the base's __init__ runs with the call that built this class
            yield parent, built
            continue
        passed = _super_call(init, parent.name)
        if passed is None:
            continue
        params = [a.arg for a in init.args.args]
        def resolved(arg: ast.expr) -> ast.expr:
            if isinstance(arg, ast.Name) and arg.id in params[1:] and built is not None:
                return argument(built, params.index(arg.id) - 1, arg.id) or arg
            return arg
        yield parent, ast.Call(func=ast.Name(id=parent.name, ctx=ast.Load()),
                               args=[resolved(a) for a in passed.args if not isinstance(a, ast.Starred)],
                               keywords=[ast.keyword(arg=k.arg, value=resolved(k.value)) for k in passed.keywords if k.arg])


def _super_call(init: ast.FunctionDef, base: str) -> Optional[ast.Call]:
    """``super().__init__(...)``, ``super(Cls, self).__init__(...)`` or ``Base.__init__(self, ...)``
    (given without ``self``)."""
    for node in ast.walk(init):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"):
            continue
        owner = node.func.value
        if isinstance(owner, ast.Call) and dotted(owner.func) == "super":
            return node
        if dotted(owner) == base and node.args:
            return ast.Call(func=node.func, args=node.args[1:], keywords=node.keywords)
    return None
