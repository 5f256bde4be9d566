"""Which model a builder function returns for the string a call passes it (GL406):
``def build_model(arch): if arch == "vgg19": model = models.vgg19() elif arch ==
"resnet18": model = models.resnet18() ... return model`` called as ``build_model("vgg19")``
builds a VGG, which has no BatchNorm. A command-line option's default is not such a
string: the other choices are configurations of the code too.

Only a function of the file or of a project module it imports by name, whose returned
name is bound in the branches of ``if <parameter> == "<string>"`` tests; anything else is
unknown (None) and the caller keeps its own answer."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Callable, Optional

from gradlint.source.chosen_names import chosen_string
from gradlint.source.names import collect_aliases, dotted, qualify
from gradlint.source.project_functions import project_function

Builds = Callable[[str], Optional[bool]]  # qualified constructor -> has BatchNorm (None: not a known model)


def picked_build(call: ast.Call, frame: Optional[ast.AST], tree: ast.Module, path: str,
                 builds_bn: Builds) -> Optional[bool]:
    """Whether the model ``call`` gets from a string-picking builder has BatchNorm."""
    found = _function(call, tree, path)
    if found is None:
        return None
    function, module_tree = found
    returned = _returned_name(function)
    if returned is None:
        return None
    branches = _branches(function, returned)
    if branches is None:
        return None
    parameter, picks, otherwise = branches
    passed = _argument(call, function, parameter)
    # a string written in the code; a command-line option's default is one configuration of
    # several, and each the builder offers is read (the rule reports the one with BatchNorm)
    picked = chosen_string(passed, frame, tree, options=False) if passed is not None else None
    if picked is None:
        return None
    values = picks.get(picked, otherwise)
    if not values:
        return None
    aliases = collect_aliases(module_tree)
    answers = [builds_bn(qualify(value.func, aliases) or "") if isinstance(value, ast.Call) else None
               for value in values]
    return None if None in answers else any(answers)


def handed_name_build(call: ast.Call, frame: Optional[ast.AST], tree: ast.Module, path: str,
                      builds_bn: Builds) -> Optional[bool]:
    """Whether the model ``call`` gets from a builder that looks its architecture up by a
    parameter (``def load(ckpt, arch="resnet50"): net = getattr(torchvision.models, arch)()``)
    has BatchNorm, for the string passed (a command-line option's default counts: it is what
    a plain run builds) or the parameter's default."""
    found = _function(call, tree, path)
    if found is None:
        return None
    function, module_tree = found
    returned = _returned_name(function)
    built = _bound(function.body, returned) if returned is not None else []
    if len(built) != 1 or not isinstance(value := built[0], ast.Call):
        return None
    picker = value.func
    if not (isinstance(picker, ast.Call) and dotted(picker.func) == "getattr" and len(picker.args) == 2
            and isinstance(picker.args[1], ast.Name)):
        return None
    parameter = picker.args[1].id
    params = [a.arg for a in function.args.args]
    if parameter not in params:
        return None
    passed = _argument(call, function, parameter)
    if passed is not None:
        picked = chosen_string(passed, frame, tree)
    else:
        defaults = function.args.defaults
        offset = len(params) - len(defaults)
        index = params.index(parameter) - offset
        default = defaults[index] if index >= 0 else None
        picked = default.value if isinstance(default, ast.Constant) and isinstance(default.value, str) else None
    owner = qualify(picker.args[0], collect_aliases(module_tree))
    return builds_bn(f"{owner}.{picked}") if owner and picked else None


def called_with(function: ast.FunctionDef, name: str, tree: ast.Module,
                frame_of: Callable[[ast.AST], Optional[ast.AST]]) -> Optional[list[ast.expr]]:
    """What ``name`` is bound to inside ``function`` (of ``tree``) for the strings the
    file's calls of it write: ``def create_model(arch): if arch == "vgg16": model = vgg16()
    else: model = resnet152()`` called only as ``create_model("vgg16")`` binds a VGG. None
    when the branches are not picked by a string parameter, or a call passes anything else
    (a command-line option: each arm is a configuration)."""
    branches = _branches(function, name)
    if branches is None:
        return None
    parameter, picks, otherwise = branches
    values: list[ast.expr] = []
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and dotted(call.func) == function.name:
            passed = _argument(call, function, parameter)
            picked = chosen_string(passed, frame_of(call), tree, options=False) if passed is not None else None
            if picked is None:
                return None  # one call the file cannot read: any branch may be taken
            values.extend(picks.get(picked, otherwise))
    return values or None


def _function(call: ast.Call, tree: ast.Module, path: str) -> Optional[tuple[ast.FunctionDef, ast.Module]]:
    name = dotted(call.func)
    found = project_function(name, tree, Path(path)) if name and "." not in name else None
    return (found[0], found[1]) if found is not None else None


def _returned_name(function: ast.FunctionDef) -> Optional[str]:
    """The one name ``function`` returns (``return model``), also as the first element of
    a tuple (``return model_ft, input_size``, the fine-tuning tutorial's builder)."""
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value.elts[0] if isinstance(node.value, ast.Tuple) and node.value.elts else node.value
            if isinstance(value, ast.Name):
                names.add(value.id)
    return names.pop() if len(names) == 1 else None


def _branches(function: ast.FunctionDef,
              name: str) -> Optional[tuple[str, dict[str, list[ast.expr]], list[ast.expr]]]:
    """``(parameter, {"vgg19": [models.vgg19(...)], ...}, [the else branch's values])`` for
    an ``if parameter == "vgg19": name = ... elif ...: ... else: ...`` chain."""
    params = {a.arg for a in function.args.args}
    for statement in function.body:
        if not isinstance(statement, ast.If):
            continue
        picks: dict[str, list[ast.expr]] = {}
        parameter: Optional[str] = None
        node: Optional[ast.If] = statement
        otherwise: list[ast.expr] = []
        while node is not None:
            test = node.test
            if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
                    and isinstance(test.left, ast.Name) and test.left.id in params
                    and isinstance(value := test.comparators[0], ast.Constant) and isinstance(value.value, str)
                    and parameter in (None, test.left.id)):
                break
            parameter = test.left.id
            picks[value.value] = _bound(node.body, name)
            if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
                node = node.orelse[0]
            else:
                otherwise = _bound(node.orelse, name)
                node = None
        if parameter is not None and node is None and all(picks.values()):
            return parameter, picks, otherwise
    return None


def _bound(body: list[ast.stmt], name: str) -> list[ast.expr]:
    return [node.value for statement in body for node in ast.walk(statement) if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]


def _argument(call: ast.Call, function: ast.FunctionDef, parameter: str) -> Optional[ast.expr]:
    for keyword in call.keywords:
        if keyword.arg == parameter:
            return keyword.value
    params = [a.arg for a in function.args.args]
    index = params.index(parameter)
    return call.args[index] if index < len(call.args) else None
