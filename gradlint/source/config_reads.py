"""Reading what a configuration holds at a key: a dict literal bound once (in the caller,
the module, or passed by every call of the caller), a function of the file returning one, a
project module's dict, a YAML file loaded by a literal path; and the key path a nested read
names (``cfg.get("freeze_backbone", {}).get("enabled", False)`` -> ``("freeze_backbone",
"enabled")``), for the project's YAML files. :mod:`call_flags` reads freezing flags with them."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.call_arguments import argument
from gradlint.source.config_values import imported_dict_entry, literal_entry, yaml_entry
from gradlint.source.project_constants import UNKNOWN

_DEEPEST = 4  # nested sections followed back through the names they are bound to


def parameter_default(function: ast.FunctionDef, parameter: str) -> tuple[int, Optional[ast.expr]]:
    """The position of a positional parameter (``self`` counted) and its default, if any."""
    params = [a.arg for a in function.args.args]
    index = params.index(parameter)
    defaults = function.args.defaults
    first = len(params) - len(defaults)
    return index, defaults[index - first] if index >= first else None


def annotated_class(function: Optional[ast.AST], parameter: str) -> Optional[str]:
    """The class name ``parameter`` of ``function`` is annotated with (``config: TrainConfig``)."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    annotation = next((a.annotation for a in function.args.args + function.args.kwonlyargs if a.arg == parameter), None)
    return annotation.id if isinstance(annotation, ast.Name) else None


def dict_entry(holder: str, key: str, caller: Optional[ast.AST], tree: ast.Module, follow_calls: bool = True) -> object:
    """The constant ``holder[key]`` holds when ``holder`` is bound once in the caller (else at
    module level) to a dict literal, or to a call of a function of the file that returns one;
    with ``follow_calls``, also a parameter of the caller that every call of it fills so."""
    for scope in ([caller] if caller is not None else []) + [tree]:
        values = [node.value for node in _own_nodes(scope) if isinstance(node, ast.Assign)
                  and any(isinstance(t, ast.Name) and t.id == holder for t in node.targets)]
        if not values and follow_calls and isinstance(scope, ast.FunctionDef) and holder in [a.arg for a in scope.args.args]:
            return _passed_entry(scope, holder, key, tree)  # Trainer(config) with ``config = {...}`` in main
        if not values:
            continue
        if len(values) != 1:
            return UNKNOWN
        value = values[0]
        if isinstance(value, ast.Call) and (loaded := yaml_entry(value, key, tree)) is not UNKNOWN:
            return loaded  # config = load_config("../config/exp.yaml") with ``freeze: false`` in it
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and not value.args and not value.keywords:
            made = next((f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == value.func.id), None)
            returned = [r.value for r in _own_nodes(made) if isinstance(r, ast.Return) and r.value is not None] if made else []
            if len(returned) != 1:
                return UNKNOWN
            value = returned[0]
            if isinstance(value, ast.Name):  # config = {...}; return config
                assert made is not None
                return dict_entry(value.id, key, made, ast.Module([], []))
        return literal_entry(value, key) if isinstance(value, ast.Dict) else UNKNOWN
    return imported_dict_entry(holder, key, tree)  # from config import config


def _passed_entry(function: ast.FunctionDef, holder: str, key: str, tree: ast.Module) -> object:
    """``holder[key]`` for ``holder`` a parameter of ``function`` (a module-level function,
    or a class's ``__init__``), when every call of it in the file passes a dict that holds
    the same constant there."""
    params = [a.arg for a in function.args.args]
    cls = next((c for c in tree.body if isinstance(c, ast.ClassDef) and function in c.body), None)
    if cls is not None and function.name != "__init__" or cls is None and function not in tree.body:
        return UNKNOWN
    callee, index = (cls.name, params.index(holder) - 1) if cls is not None else (function.name, params.index(holder))
    found: list[object] = []
    for scope in [tree, *(f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)))]:
        for call in _own_nodes(scope):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == callee):
                continue
            passed = argument(call, index, holder) or parameter_default(function, holder)[1]  # main(cfg=CONFIG) run as main()
            if isinstance(passed, ast.Name):
                found.append(dict_entry(passed.id, key, scope if scope is not tree else None, tree, follow_calls=False))
            elif isinstance(passed, ast.Dict):
                found.append(literal_entry(passed, key))
            else:
                return UNKNOWN
    if not found or any(value is UNKNOWN or value != found[0] for value in found):
        return UNKNOWN
    return found[0]


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    """The nodes of ``scope``'s own body, not those of the functions and classes it defines."""
    found: list[ast.AST] = []
    todo = list(ast.iter_child_nodes(scope))
    while todo:
        node = todo.pop()
        found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
    return found




def config_path(read: ast.expr, caller: Optional[ast.AST], depth: int = 0) -> tuple[str, ...]:
    """The keys ``read`` takes from a configuration, outermost first, through names bound
    once in ``caller`` (``fb = cfg.get("freeze_backbone", {})``; ``fb.get("enabled")``);
    empty when it is not a keyed read."""
    key: Optional[str] = None
    holder: Optional[ast.expr] = None
    if isinstance(read, ast.Subscript) and isinstance(read.slice, ast.Constant) and isinstance(read.slice.value, str):
        key, holder = read.slice.value, read.value
    elif (isinstance(read, ast.Call) and isinstance(read.func, ast.Attribute) and read.func.attr == "get" and read.args
          and isinstance(first := read.args[0], ast.Constant) and isinstance(first.value, str)):
        key, holder = first.value, read.func.value
    if key is None or holder is None or depth > _DEEPEST:
        return ()
    if isinstance(holder, ast.Name) and caller is not None:
        bound = [node.value for node in _own_nodes(caller) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == holder.id for t in node.targets)]
        holder = bound[0] if len(bound) == 1 else holder
    return (*config_path(holder, caller, depth + 1), key)
