"""Which classes a project function can return: ``def setup(opt): if opt.model == "cnn":
model = CNN(opt) elif ...: model = CapsuleNet(opt); return model`` can return ``CNN`` and
``CapsuleNet``. Read from ``ast``; a value that is not a call of a known class is skipped.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Optional

from gradlint.source.call_arguments import argument
from gradlint.source.names import dotted
from gradlint.source.project_functions import project_function
from gradlint.source.reaching_bindings import unwrap


def returned_classes(function: ast.FunctionDef, known: set[str]) -> list[str]:
    """The names in ``known`` the function returns an instance of, in source order."""
    found: list[str] = []
    for candidate in returned_values(function):
        if isinstance(candidate, ast.Call) and (name := dotted(candidate.func)) in known and name not in found:
            found.append(name)
    return found


def returned_values(function: ast.FunctionDef) -> list[ast.expr]:
    """What the function returns, a returned name read as the values assigned to it
    (``model = ResNet(...); ...; return model`` -> the call) and a conditional expression as
    its two arms, in source order."""
    values: list[ast.expr] = []
    assigned = _assigned(function)
    for node in ast.walk(function):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = unwrap(node.value)
        for found in [unwrap(v) for v in assigned.get(value.id, [])] if isinstance(value, ast.Name) else [value]:
            values += _arms(found)
    return values


def _arms(value: ast.expr) -> list[ast.expr]:
    """Both arms of ``A(...) if kind == "a" else B(...)`` (each a model the function can return)."""
    return [*_arms(unwrap(value.body)), *_arms(unwrap(value.orelse))] if isinstance(value, ast.IfExp) else [value]


def returned_tuple_classes(function: ast.FunctionDef, known: set[str]) -> dict[int, str]:
    """For a function returning one tuple of models (``return netG, netD``, each bound
    once to ``Cls(...)``), the class in ``known`` at each position it can tell."""
    returns = [node for node in ast.walk(function) if isinstance(node, ast.Return) and node.value is not None]
    if len(returns) != 1 or not isinstance(returns[0].value, ast.Tuple):
        return {}
    assigned = _assigned(function)
    found: dict[int, str] = {}
    for index, element in enumerate(returns[0].value.elts):
        # (``d_model = d_model.to(device)`` moves the model the name holds: not another value)
        values = [value for value in assigned.get(element.id, []) if not moved_in_place(value, element.id)] \
            if isinstance(element, ast.Name) else [element]
        calls = {dotted(call.func) for value in values if isinstance(call := unwrap(value), ast.Call)}
        if len(values) == 1 and len(calls) == 1 and (name := calls.pop()) in known:
            found[index] = str(name)
    return found


def moved_in_place(value: ast.expr, name: str) -> bool:
    """``d_model = d_model.to(config["device"])``: the value ``name`` held, moved (or cast)."""
    return value is not (held := unwrap(value)) and isinstance(held, ast.Name) and held.id == name


def _assigned(function: ast.FunctionDef) -> dict[str, list[ast.expr]]:
    """Each plain name of ``function`` -> every value assigned to it."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    return assigned


def returned_names(function: ast.FunctionDef, tree: Optional[ast.Module] = None) -> dict[str, Optional[int]]:
    """The names ``function`` returns: ``return model`` -> {"model": None}, ``return model,
    size`` -> {"model": 0, "size": 1}; also through a function of the file that returns the
    model it is handed (``return freeze_except(model)``)."""
    names: dict[str, Optional[int]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            for position, value in returned_elements(node.value):
                if isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Name) \
                        and tree is not None and _hands_back(value, tree):
                    value = value.args[0]
                if isinstance(value, ast.Name):
                    names.setdefault(value.id, position)
    return names


def _hands_back(call: ast.Call, tree: ast.Module) -> bool:
    """``call`` is of a module-level function of ``tree`` whose every ``return`` gives back its
    first parameter."""
    function = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and isinstance(call.func, ast.Name)
                     and node.name == call.func.id and node.args.args), None)
    returns = [node for node in ast.walk(function) if isinstance(node, ast.Return)] if function is not None else []
    return function is not None and bool(returns) and all(
        isinstance(node.value, ast.Name) and node.value.id == function.args.args[0].arg for node in returns)


def returned_elements(value: ast.expr) -> list[tuple[Optional[int], ast.expr]]:
    """``return model`` -> [(None, model)]; ``return model, size`` -> [(0, model), (1, size)]."""
    value = unwrap(value)
    if isinstance(value, ast.Tuple):
        return [(index, unwrap(element)) for index, element in enumerate(value.elts)]
    return [(None, value)]


def handed_back(call: ast.Call, tree: ast.Module, script: Path) -> Optional[ast.expr]:
    """The argument of ``call`` that the project function it calls returns as it got it
    (``def layer_modification(model): ...; return model``): the model it builds into (a new
    head) or freezes (``net = freeze_features(build(n))``) is the one it is handed."""
    found = project_function(dotted(call.func) or "", tree, script)
    name = returned_parameter(found[0]) if found is not None else None
    if found is None or name is None:
        return None
    return argument(call, [a.arg for a in found[0].args.args].index(name), name)


def returned_parameter(function: ast.FunctionDef) -> Optional[str]:
    """The parameter ``function`` returns as it got it (``return model``, never rebound)."""
    params = [a.arg for a in function.args.args]
    returned = {node.value.id for node in ast.walk(function) if isinstance(node, ast.Return)
                and isinstance(node.value, ast.Name)}
    if len(returned) != 1 or (name := returned.pop()) not in params or any(
            isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
            for node in ast.walk(function)):
        return None  # (``def get_model(model, n): model = resnet50(); ...; return model`` builds its own)
    return name


def returned_build(call: ast.Call, tree: ast.Module, script: Path) -> Optional[ast.Call]:
    """The library call a project builder returns (alone or first of a tuple) for the
    architecture ``call`` names: ``def build_efficientnet(name="efficientnet-b0"): model =
    timm.create_model(name, ...); return model, model.num_features`` called as
    ``build_efficientnet("efficientnet_b0")`` gives ``timm.create_model("efficientnet_b0", ...)``.
    None unless the function has one return, of a name it binds once to a call whose first
    argument is a string written there or a parameter that ``call`` (or its default) fills
    with one."""
    found = project_function(dotted(call.func) or "", tree, script)
    if found is None:
        return None
    function = found[0]
    returns = [node.value for node in ast.walk(function) if isinstance(node, ast.Return) and node.value is not None]
    if len(returns) != 1:
        return None
    first = returned_elements(returns[0])[0][1]
    bound = [node.value for node in ast.walk(function) if isinstance(node, ast.Assign) and len(node.targets) == 1
             and isinstance(first, ast.Name) and isinstance(node.targets[0], ast.Name) and node.targets[0].id == first.id]
    built = unwrap(bound[0]) if len(bound) == 1 else None
    if not isinstance(built, ast.Call) or not built.args:
        return None
    name = built.args[0]
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return built
    params = [a.arg for a in function.args.args]
    if not isinstance(name, ast.Name) or name.id not in params:
        return None
    index = params.index(name.id)
    passed = argument(call, index, name.id)
    if passed is None:  # the parameter's default
        defaults = function.args.defaults
        first_default = len(params) - len(defaults)
        passed = defaults[index - first_default] if index >= first_default else None
    if not (isinstance(passed, ast.Constant) and isinstance(passed.value, str)):
        return None
    chosen = ast.Call(built.func, [ast.copy_location(ast.Constant(passed.value), name), *built.args[1:]], built.keywords)
    return ast.copy_location(chosen, call)


def plain_element(tree: ast.Module, call: ast.Call, position: int, count: int) -> bool:
    """``create_net, config = select_net(name)`` where ``select_net``, a function of the file,
    returns a tuple of ``count`` whose element at ``position`` is a name it binds only to other
    names or literals (``config = vgg_ssd_config``): that element is no model the call builds."""
    name = dotted(call.func)
    function = next((node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name), None)
    returns = [node.value for node in ast.walk(function) if isinstance(node, ast.Return)] if function is not None else []
    if not returns or not all(isinstance(r, ast.Tuple) and len(r.elts) == count for r in returns):
        return False
    elements = [r.elts[position] for r in returns if isinstance(r, ast.Tuple)]
    if not all(isinstance(e, ast.Name) for e in elements):
        return False
    names = {e.id for e in elements if isinstance(e, ast.Name)}
    assert function is not None
    values = [node.value for node in ast.walk(function) if isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id in names for t in node.targets)]
    return bool(values) and all(isinstance(v, (ast.Name, ast.Constant, ast.Attribute)) or _plain_loss(v) for v in values)


# losses that run a network of their own (a perceptual loss's VGG): not plain
_NETWORK_LOSSES = re.compile(r"Perceptual|VGG|Vgg|Feature|Style|Content|LPIPS|Lpips")


def _plain_loss(value: ast.expr) -> bool:
    """``criterion = nn.CrossEntropyLoss(weight=w)`` or ``util.FocalLoss(...)`` returned beside
    the model (``return best_model, criterion, ...``): a loss, no model."""
    callee = (dotted(value.func) or "").rsplit(".", 1)[-1] if isinstance(value, ast.Call) else ""
    return callee.endswith("Loss") and not _NETWORK_LOSSES.search(callee)


def returned_calls(function: ast.FunctionDef) -> Optional[list[ast.Call]]:
    """The calls ``function`` returns, directly or through a name bound to one (``return
    Classifier(...)``, ``model = Classifier(...); return model``); None when some return is
    anything else."""
    bound: dict[str, list[Optional[ast.Call]]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = unwrap(node.value)
            bound.setdefault(node.targets[0].id, []).append(value if isinstance(value, ast.Call) else None)
    built: list[Optional[ast.Call]] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            value = unwrap(node.value)
            built += ([value] if isinstance(value, ast.Call)
                      else bound.get(value.id, [None]) if isinstance(value, ast.Name) else [None])
    calls = [call for call in built if call is not None]
    return calls if calls and len(calls) == len(built) else None


def returned_instance(function: ast.FunctionDef) -> Optional[ast.Call]:
    """The one class call ``function`` returns (every return builds the same class); else None."""
    calls = returned_calls(function) or []
    return calls[0] if calls and len({dotted(call.func) for call in calls}) == 1 and dotted(calls[0].func) else None


def instance_builders(tree: ast.Module, classes: set[str]) -> tuple[tuple[str, str], ...]:
    """(function, class) for the module's functions whose every return is an instance of a
    class built there, for each of ``classes`` among them: ``def build_model(config): return
    Classifier(...)``; ``create_model(name)`` returning a ``SimpleCNN`` or a ``TBClassifier``
    builds either (a freezing method only one has says which)."""
    found: list[tuple[str, str]] = []
    for function in tree.body:
        if isinstance(function, ast.FunctionDef) and (calls := returned_calls(function)) is not None:
            found.extend((function.name, name) for name in dict.fromkeys(dotted(call.func) for call in calls)
                         if name in classes)
    return tuple(found)
