"""A freezing helper that makes the last ``n`` children of the model it froze trainable again
(GL406): ``for p in model.parameters(): p.requires_grad = False``, then ``layers =
list(model.children()); layers.reverse()`` and a loop reopening each layer until a counter
reaches ``n``. Whether BatchNorm stays frozen depends on ``n`` at each call and on the
architecture: a torchvision DenseNet or MobileNetV2 has two children (``features``,
``classifier``), so reopening the last three reopens everything."""

from __future__ import annotations

import ast
from typing import Callable, Optional

from gradlint.source.call_arguments import argument
from gradlint.source.config_reads import parameter_default
from gradlint.source.names import dotted
from gradlint.source.optimizer_params import literal, module_constants

# the largest number of last children reopened that still leaves a BatchNorm child frozen, by
# the torchvision builder's name (``children()`` order: a ResNet's conv1, bn1, relu, maxpool,
# layer1-4, avgpool, fc; a DenseNet's features, classifier; an EfficientNet's features,
# avgpool, classifier; a RegNet's stem, trunk_output, avgpool, fc; a ShuffleNetV2's conv1,
# maxpool, stage2-4, conv5, fc)
_BN_FROZEN_UP_TO = (("mobilenet_v3", 2), ("mobilenet_v2", 1), ("densenet", 1), ("mnasnet", 1), ("efficientnet", 2),
                    ("regnet", 3), ("shufflenet", 6), ("resnext", 8), ("resnet", 8), ("_bn", 2))


def reopened_count(helper: ast.FunctionDef, root: str) -> Optional[str]:
    """The parameter of ``helper`` counting the last children of ``root`` it makes trainable
    again after freezing it, or None when it does not read so."""
    params = {a.arg for a in helper.args.args}
    listed = {dotted(node.targets[0]) for node in ast.walk(helper) if isinstance(node, ast.Assign)
              and len(node.targets) == 1 and _children_list(node.value, root)}
    listed.discard(None)
    reversed_names = {dotted(node.func.value) for node in ast.walk(helper) if isinstance(node, ast.Call)
                      and isinstance(node.func, ast.Attribute) and node.func.attr == "reverse"}
    for loop in ast.walk(helper):
        if not (isinstance(loop, ast.For) and isinstance(loop.target, ast.Name)):
            continue
        it = loop.iter
        backwards = (isinstance(it, ast.Name) and it.id in listed and it.id in reversed_names
                     or isinstance(it, ast.Call) and dotted(it.func) == "reversed" and len(it.args) == 1
                     and dotted(it.args[0]) in listed)
        if not backwards or not _reopens(loop, loop.target.id, helper):
            continue
        counted = [name.id for node in ast.walk(loop) if isinstance(node, ast.Compare)
                   for name in (node.left, *node.comparators) if isinstance(name, ast.Name) and name.id in params]
        if len(set(counted)) == 1:
            return counted[0]
    return None


def all_bn_reopened(call: ast.Call, helper: ast.FunctionDef, count: str, builder: Optional[str],
                    tree: ast.Module) -> bool:
    """Whether the call reopens at least as many last children as the architecture ``builder``
    (a torchvision builder's qualified name) has after its last BatchNorm child."""
    if builder is None or not builder.startswith("torchvision.models."):
        return False
    name = builder.rpartition(".")[2]
    limit = next((up_to for key, up_to in _BN_FROZEN_UP_TO if key in name), None)
    index, default = parameter_default(helper, count)
    given = argument(call, index, count) or default
    value = literal(given, module_constants(tree)) if given is not None else None
    return limit is not None and type(value) is int and value > limit


def builder_before(call: ast.Call, model: str, scope: ast.AST,
                   qualify: Callable[[ast.expr], Optional[str]]) -> Optional[str]:
    """The library builder ``model`` was last bound to before ``call`` in ``scope``, passing
    over rebindings by a helper handed ``model`` itself (``model = change_head(model)``)."""
    bindings = sorted((node for node in ast.walk(scope) if isinstance(node, ast.Assign) and len(node.targets) == 1
                       and dotted(node.targets[0]) == model and node.lineno < call.lineno), key=lambda n: n.lineno)
    for node in reversed(bindings):
        value = node.value
        if isinstance(value, ast.Call) and any(dotted(arg) == model for arg in value.args):
            continue
        return qualify(value.func) if isinstance(value, ast.Call) else None
    return None


def _children_list(value: ast.expr, root: str) -> bool:
    """``list(root.children())``."""
    return (isinstance(value, ast.Call) and dotted(value.func) == "list" and len(value.args) == 1
            and isinstance(inner := value.args[0], ast.Call) and isinstance(inner.func, ast.Attribute)
            and inner.func.attr == "children" and dotted(inner.func.value) == root)


def _reopens(loop: ast.For, layer: str, helper: ast.FunctionDef) -> bool:
    """The loop makes ``layer`` trainable: directly, or through a function it hands ``layer``."""
    if _sets_trainable(loop):
        return True
    called = {dotted(node.func) for node in ast.walk(loop) if isinstance(node, ast.Call)
              and any(dotted(arg) == layer for arg in node.args)}
    return any(isinstance(node, ast.FunctionDef) and node.name in called and _sets_trainable(node)
               for node in ast.walk(helper))


def _sets_trainable(node: ast.AST) -> bool:
    return any(isinstance(inner, ast.Assign) and isinstance(inner.value, ast.Constant) and inner.value.value is True
               and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in inner.targets)
               for inner in ast.walk(node))
