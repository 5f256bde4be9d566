"""Methods that freeze one part or another by an attribute the constructor keeps (GL406):
``def freeze_backbone(self): if self.backbone == "vgg": <freeze self.vgg> elif
self.backbone == "resnet50": <freeze self.resnet>`` with ``self.backbone = backbone`` in
``__init__``. Each arm is a freeze of its own, taken where the instance was built with
that value (``Unet(num_classes, backbone="resnet50")``)."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.call_arguments import argument
from gradlint.source.call_flags import parameter_default
from gradlint.source.chosen_names import chosen_string
from gradlint.source.names import dotted

# (the constructor parameter's position, not counting self; its name; the value the arm
# needs; the parameter's default string, if any)
AttributeArm = tuple[int, str, str, Optional[str]]


def attribute_arm(node: ast.AST, method: ast.FunctionDef, cls: Optional[ast.ClassDef],
                  parents: dict) -> Optional[AttributeArm]:
    """The arm of ``if self.<attribute> == "<value>":`` (or an ``elif`` of it) ``node`` runs
    under in ``method``, when ``__init__`` sets that attribute from one of its parameters."""
    if cls is None:
        return None
    child = node
    while child in parents and child is not method:
        parent = parents[child]
        if isinstance(parent, ast.If) and child in parent.body and (test := _self_test(parent.test)):
            return _from_init(cls, *test)
        child = parent
    return None


def _self_test(test: ast.expr) -> Optional[tuple[str, str]]:
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and (left := dotted(test.left) or "").startswith("self.") and left.count(".") == 1
            and isinstance(value := test.comparators[0], ast.Constant) and isinstance(value.value, str)):
        return left[len("self."):], value.value
    return None


def _from_init(cls: ast.ClassDef, attribute: str, value: str) -> Optional[AttributeArm]:
    init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
    if init is None:
        return None
    params = [a.arg for a in init.args.args]
    kept = [node.value for node in ast.walk(init) if isinstance(node, ast.Assign) and len(node.targets) == 1
            and dotted(node.targets[0]) == f"self.{attribute}"]
    if len(kept) != 1 or not isinstance(kept[0], ast.Name) or kept[0].id not in params[1:]:
        return None
    index, default = parameter_default(init, kept[0].id)
    shown = default.value if isinstance(default, ast.Constant) and isinstance(default.value, str) else None
    return index - 1, kept[0].id, value, shown


def takes_arm(arm: AttributeArm, built: Optional[ast.expr], frame: Optional[ast.AST], tree: ast.Module) -> bool:
    """The instance built by ``built`` (``Unet(..., backbone=backbone)``) holds the arm's
    value; an instance whose value cannot be read takes no arm."""
    if not isinstance(built, ast.Call):
        return False
    index, parameter, value, default = arm
    passed = argument(built, index, parameter)
    picked = chosen_string(passed, frame, tree) if passed is not None else default
    return picked == value
