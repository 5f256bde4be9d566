"""The argument a call passes for one parameter of the function it calls."""
from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.names import dotted


def argument(call: ast.Call, index: int, keyword: str) -> Optional[ast.expr]:
    """What ``call`` passes for the parameter at ``index`` named ``keyword``; ``None`` when
    it passes nothing for it, or passes it inside ``*args``."""
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[index] if index < len(call.args) and not isinstance(call.args[index], ast.Starred) else None


def unpacked_argument(call: ast.Call, keyword: str, tree: Optional[ast.Module]) -> Optional[ast.expr]:
    """What ``call`` passes for ``keyword`` inside ``**options``, ``options`` being a name the
    file binds once, to a dict literal (``backbone = dict(depth=50, freeze_at=-1)``, or ``{...}``);
    None when it does not say."""
    for kw in call.keywords:
        if kw.arg is not None or not isinstance(kw.value, ast.Name) or tree is None:
            continue
        bound = [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign) and len(node.targets) == 1
                 and isinstance(node.targets[0], ast.Name) and node.targets[0].id == kw.value.id]
        if len(bound) != 1:
            continue
        value = bound[0]
        if isinstance(value, ast.Dict):
            found = [v for k, v in zip(value.keys, value.values) if isinstance(k, ast.Constant) and k.value == keyword]
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
            found = [k.value for k in value.keywords if k.arg == keyword]
        else:
            continue
        if found:
            return found[0]
    return None


def is_static(function: ast.FunctionDef) -> bool:
    """``@staticmethod``: a call passes every argument, no ``self``."""
    return any(dotted(d) == "staticmethod" for d in function.decorator_list)


def bound_parameters(method: ast.FunctionDef) -> list[str]:
    """The parameters the arguments of a call through an instance (``self.freeze(backbone)``)
    line up with: all but the first (``self``) unless the method is static."""
    params = [a.arg for a in method.args.args]
    return params if is_static(method) or not params or params[0] != "self" else params[1:]



def handed_class(call: ast.Call, function: Optional[ast.AST], tree: ast.Module) -> Optional[ast.expr]:
    """The class ``call`` builds when its callee is a parameter of ``function``, a module-level
    function every call of which in the file passes the same class for it, a class the
    module defines or imports: ``model = model_class(n)`` in ``def train(model_class, ...)``,
    called as ``train(VQAModel, ...)`` -> ``VQAModel``. None when the parameter is rebound,
    or the calls disagree, pass something else or pass nothing for it."""
    if not (isinstance(call.func, ast.Name) and isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
            and function in tree.body):
        return None
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    name = call.func.id
    if name not in params or any(isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
                                 for node in ast.walk(function)):
        return None
    passed = [argument(node, params.index(name), name) for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function.name]
    names = {p.id if isinstance(p, ast.Name) else None for p in passed}
    if len(names) != 1 or None in names or names.pop() not in _module_classes(tree):
        return None
    return next(p for p in passed if p is not None)


def _module_classes(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level to a class it defines or to a name it imports."""
    found = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    found |= {alias.asname or alias.name.split(".")[0] for node in tree.body
              if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    return found
