"""Which arms of a class's ``if self.model_name == "resnet": ... elif ...`` chain its
constructions in the file take.

``FineTuning(root, "vgg", 120)`` with ``self.model_name = model_name`` in ``__init__``
takes only the ``"vgg"`` arm: what the other arms assign to ``self.model`` is never
built by this file. Where the class is never built in the file, or built with anything
but a constant for that parameter, every arm is a configuration of the code and counts.
"""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.bn_builders import TV_BN
from gradlint.source.call_arguments import argument
from gradlint.source.dead_branches import parameter_branch
from gradlint.source.names import dotted


def arms_not_taken(cls: ast.ClassDef, tree: ast.Module) -> dict[str, set[object]]:
    """``{attribute: constants}`` for each ``self.attribute = parameter`` of ``__init__``
    that every construction of ``cls`` in the file passes as a constant (its default
    counts): the values the chain's tests can see."""
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if init is None:
        return {}
    params = [a.arg for a in init.args.args[1:]]
    defaults = dict(zip(params[len(params) - len(init.args.defaults):], init.args.defaults))
    kept = {target.attr: value.id for node in ast.walk(init) if isinstance(node, ast.Assign)
            and isinstance(value := node.value, ast.Name) and value.id in params
            for target in node.targets if isinstance(target, ast.Attribute) and dotted(target.value) == "self"}
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and (dotted(n.func) or "").rsplit(".", 1)[-1] == cls.name]
    if not kept or not calls:
        return {}
    seen: dict[str, set[object]] = {}
    for attribute, param in kept.items():
        values: set[object] = set()
        for call in calls:
            passed = _passed(call, params.index(param), param, defaults.get(param))
            if not isinstance(passed, ast.Constant):
                break
            values.add(passed.value)
        else:
            seen[attribute] = values
    return seen


def _passed(call: ast.Call, index: int, name: str, default: Optional[ast.expr]) -> Optional[ast.expr]:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    keyword = next((k.value for k in call.keywords if k.arg == name), None)
    if keyword is not None:
        return keyword
    return call.args[index] if index < len(call.args) else default


def in_arm_not_taken(node: ast.AST, parents: dict[ast.AST, ast.AST], seen: dict[str, set[object]]) -> bool:
    """``node`` sits in the body of an ``if self.attribute == constant`` that no construction takes."""
    child, parent = node, parents.get(node)
    while parent is not None and not isinstance(parent, ast.ClassDef):
        if isinstance(parent, ast.If) and child in parent.body and (tested := _tested(parent.test)) is not None:
            attribute, constant = tested
            if attribute in seen and constant not in seen[attribute]:
                return True
        child, parent = parent, parents.get(parent)
    return False


def _tested(test: ast.expr) -> Optional[tuple[str, object]]:
    """``self.model_name == "vgg"`` -> ("model_name", "vgg")."""
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.left, ast.Attribute) and dotted(test.left.value) == "self"
            and isinstance(test.comparators[0], ast.Constant)):
        return test.left.attr, test.comparators[0].value
    return None


def passed_other_arm(node: ast.AST, cls: ast.ClassDef, built: Optional[ast.Call]) -> bool:
    """``node`` sits in an ``if arch == "vgg16_bn":`` arm of ``cls.__init__`` (``arch`` one
    of its parameters) and ``built``, the construction read, passes another literal for it
    (``FeatureLoss(27, "vgg19")``): that construction never runs the arm."""
    init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
    if built is None or init is None or not any(inner is node for inner in ast.walk(init)):
        return False
    parents = {child: parent for parent in ast.walk(init) for child in ast.iter_child_nodes(parent)}
    branch = parameter_branch(node, init, parents)
    params = [a.arg for a in init.args.args[1:]]  # (the call passes no self)
    passed = argument(built, params.index(branch[0]), branch[0]) if branch and branch[0] in params else None
    return isinstance(passed, ast.Constant) and branch is not None and passed.value != branch[1]


def batchnorm_only_in_other_arms(cls: ast.ClassDef, built: ast.Call) -> bool:
    """Every BatchNorm layer or BatchNorm model ``cls`` builds is in an arm ``built`` does not
    take (a class of another module, read without its own names resolved: the builders are
    matched by how they are spelled, ``torchvision.models.vgg16_bn``, ``nn.BatchNorm2d``)."""
    made = [node for node in ast.walk(cls) if isinstance(node, ast.Call)
            and ((spelled := dotted(node.func) or "").rsplit(".", 1)[-1].startswith("BatchNorm")
                 or TV_BN.match("torchvision.models." + spelled.rsplit(".", 1)[-1]))]
    return bool(made) and all(passed_other_arm(node, cls, built) for node in made)


def call_skips_arm(function: ast.FunctionDef, node: ast.AST, call: ast.Call) -> bool:
    """``node`` sits in an ``if loss_kind == "logits":`` arm of ``function`` (a function of
    the file, ``loss_kind`` one of its parameters) and ``call`` passes another literal for it
    (``train_probe(TextureNet(), loader, "probs")``): that call never runs the arm."""
    parents = {child: parent for parent in ast.walk(function) for child in ast.iter_child_nodes(parent)}
    branch = parameter_branch(node, function, parents)
    params = [a.arg for a in function.args.args]
    if params[:1] in (["self"], ["cls"]):
        params = params[1:]  # (a method's call passes no self)
    passed = argument(call, params.index(branch[0]), branch[0]) if branch and branch[0] in params else None
    return isinstance(passed, ast.Constant) and branch is not None and passed.value != branch[1]
