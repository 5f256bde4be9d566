"""The string a model is picked by, when the code says which: ``getattr(models,
args.arch)(weights=...)`` with ``parser.add_argument("--arch", default="resnet50")``,
``models.__dict__[arch]()`` after ``arch = "densenet121"``, or ``timm.create_model(name)``
with ``name`` a command-line option.

Only what the file itself fixes: a constant, a name bound once to one, or a command-line
option's default. A value a caller passes (a parameter) is unknown (None): a rule then
stays silent rather than guess the architecture."""

from __future__ import annotations

import ast
import weakref
from typing import Callable, Optional

from gradlint.source.documented_runs import documented_options
from gradlint.source.names import dotted
from gradlint.source.project_constants import constant_attribute
from gradlint.source.tree_paths import path_of

_OPTIONS: "weakref.WeakKeyDictionary[ast.Module, dict[str, object]]" = weakref.WeakKeyDictionary()


def chosen_string(expr: ast.expr, frame: Optional[ast.AST], tree: ast.Module, options: bool = True) -> Optional[str]:
    """The string ``expr`` holds where it is read (in ``frame``, a function, or the module);
    ``options``: a command-line option's default counts too."""
    if isinstance(expr, ast.Constant):
        return expr.value if isinstance(expr.value, str) else None
    if isinstance(expr, ast.Name):
        if isinstance(frame, (ast.FunctionDef, ast.AsyncFunctionDef)) and expr.id in _parameters(frame):
            return None  # what the caller passes
        for scope in ([frame] if frame is not None else []) + [tree]:
            values = [node.value for node in ast.walk(scope) if isinstance(node, ast.Assign)
                      and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)]
            loops = [node.iter for node in ast.walk(scope) if isinstance(node, (ast.For, ast.AsyncFor))
                     and isinstance(node.target, ast.Name) and node.target.id == expr.id]
            if values and not loops:
                return chosen_string(values[0], None, tree, options) if len(values) == 1 else None
            if loops and not values:  # for model_name in ["AlexNet"]: the one name a list of one gives
                return _only_item(loops[0], tree) if len(loops) == 1 else None
        return None
    if isinstance(expr, ast.Subscript) and isinstance(key := expr.slice, ast.Constant) and isinstance(key.value, str):
        return _dict_entry(expr.value, key.value, frame, tree, options)  # CFG["model_name"] of a dict literal
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and options:
        found = option_defaults(tree).get(expr.attr)  # args.arch, opt.model_name
        if found is None:  # class CFG: model_name = "tf_efficientnet_b3_ns" (or a module constant)
            constant = constant_attribute(tree, expr.value.id, expr.attr)
            found = constant if isinstance(constant, str) else None
        return found
    return None


def _dict_entry(holder: ast.expr, key: str, frame: Optional[ast.AST], tree: ast.Module, options: bool) -> Optional[str]:
    """The string a dict literal bound once to ``holder`` (``CFG = {"model_name": "resnet50"}``,
    also one level down, ``cfg["model"]["name"]``) holds at ``key``, unless the file sets
    that entry again (``CFG["model_name"] = args.arch``)."""
    if isinstance(holder, ast.Subscript) and isinstance(outer := holder.slice, ast.Constant) \
            and isinstance(outer.value, str):
        inner = _entry(_bound_dict(holder.value, frame, tree), outer.value)
    else:
        inner = _bound_dict(holder, frame, tree)
    if not isinstance(inner, ast.Dict) or any(
            isinstance(node, ast.Assign) and any(isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant)
                                                 and t.slice.value == key for t in node.targets)
            for node in ast.walk(tree)):
        return None
    value = _entry(inner, key)
    return chosen_string(value, None, tree, options) if value is not None else None


def _bound_dict(holder: ast.expr, frame: Optional[ast.AST], tree: ast.Module) -> Optional[ast.Dict]:
    """The dict literal a name is bound to once (in ``frame`` or the module)."""
    if not isinstance(holder, ast.Name):
        return None
    bound = {id(node.value): node.value for scope in ([frame] if frame is not None else []) + [tree]
             for node in ast.walk(scope) if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == holder.id for t in node.targets)}
    only = next(iter(bound.values())) if len(bound) == 1 else None
    return only if isinstance(only, ast.Dict) else None


def _entry(literal: Optional[ast.expr], key: str) -> Optional[ast.expr]:
    if not isinstance(literal, ast.Dict):
        return None
    return next((v for k, v in zip(literal.keys, literal.values) if isinstance(k, ast.Constant) and k.value == key), None)


def _only_item(iterated: ast.expr, tree: ast.Module) -> Optional[str]:
    """The string of a one-item list or tuple literal (also through a module name bound once to one)."""
    if isinstance(iterated, ast.Name):
        bound = [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == iterated.id for t in node.targets)]
        iterated = bound[0] if len(bound) == 1 else iterated
    if isinstance(iterated, (ast.List, ast.Tuple)) and len(iterated.elts) == 1:
        return chosen_string(iterated.elts[0], None, tree)
    return None


def flags_passed(tree: ast.Module) -> frozenset[str]:
    """The option strings a documented run of the file passes (:mod:`documented_runs`)."""
    script = path_of(tree)
    return documented_options(script) if script is not None else frozenset()


def option_defaults(tree: ast.Module) -> dict[str, str]:
    """``--arch`` -> its string default, for each ``add_argument`` (and ``set_defaults``) of the file."""
    return {name: value for name, value in option_values(tree).items() if isinstance(value, str)}


def option_values(tree: ast.Module) -> dict[str, object]:
    """Each command-line option's default, by its ``dest``: a constant ``default=`` (or
    ``set_defaults``), else ``False`` for ``action="store_true"`` and ``True`` for ``store_false``."""
    found = _OPTIONS.get(tree)
    if found is not None:
        return found
    found = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if node.func.attr == "set_defaults":
            found.update((name, value.value) for name, value in keywords.items() if isinstance(value, ast.Constant))
        elif node.func.attr == "add_argument":
            flags = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            default, action = keywords.get("default"), keywords.get("action")
            if isinstance(default, ast.Constant):
                value = default.value
            elif isinstance(action, ast.Constant) and action.value in ("store_true", "store_false"):
                # (``python train.py --freeze_backbone`` in the project's README: that run's value)
                value = (action.value == "store_false") != bool(flags_passed(tree) & {
                    a.value for a in node.args if isinstance(a, ast.Constant)})
            else:
                continue
            if not flags:
                continue
            dest = keywords.get("dest")
            longest = max(flags, key=lambda flag: (flag.startswith("--"), len(flag)))
            name = dest.value if isinstance(dest, ast.Constant) else longest.lstrip("-").replace("-", "_")
            if isinstance(name, str):
                found[name] = value
    _OPTIONS[tree] = found
    return found


def picked_builder(call: ast.Call, frame: Optional[ast.AST], tree: ast.Module,
                   qualify: Callable[[ast.AST], Optional[str]],
                   string_of: Optional[Callable[[ast.expr], Optional[str]]] = None) -> Optional[str]:
    """``torchvision.models.resnet50`` for ``getattr(models, args.arch)(...)`` or
    ``models.__dict__[args.arch](...)`` when the string is known (``string_of``: how the
    caller reads it, by default :func:`chosen_string`); else None."""
    func = call.func
    owner: Optional[ast.expr] = None
    picked: Optional[ast.expr] = None
    if isinstance(func, ast.Call) and dotted(func.func) == "getattr" and len(func.args) >= 2:
        owner, picked = func.args[0], func.args[1]
    elif isinstance(func, ast.Subscript) and isinstance(func.value, ast.Attribute) and func.value.attr == "__dict__":
        owner, picked = func.value.value, func.slice
    if owner is None or picked is None:
        return None
    module = qualify(owner)
    name = string_of(picked) if string_of is not None else chosen_string(picked, frame, tree)
    return f"{module}.{name}" if module and name else None


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    args = function.args
    return {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
