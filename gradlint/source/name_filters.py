"""Which parameters a freeze by name reaches (GL406): ``for name, p in model.named_parameters():
if "fc" not in name: p.requires_grad = False``.

The test on ``name`` is evaluated, without running anything, on the parameter names the
common backbone families give their stem and their head. A test this reads (``in``,
``not in``, ``==``, ``startswith``/``endswith``, ``split(".")[0]``, ``not``/``and``/
``or``, ``any(...)`` over constants) on which every stem name of one family is frozen
freezes the backbone, with its BatchNorm; the head names it leaves trainable are named.
Any other test leaves the frozen part unknown (no finding).
"""

from __future__ import annotations

import ast
import re
from typing import Callable, Optional, Union

# stem parameters (conv and BatchNorm) of the families fine-tuning code freezes by name, each
# with its heads (a child module: the parameter name it starts)
_FAMILIES: tuple[tuple[tuple[str, ...], dict[str, str]], ...] = (
    (("conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer2.0.bn1.bias"),  # ResNet
     {"fc": "fc.weight", "last_linear": "last_linear.weight"}),
    (("features.0.0.weight", "features.0.1.weight", "features.1.0.block.0.1.weight"),  # MobileNet, EfficientNet
     {"classifier": "classifier.1.weight", "classifier[1]": "classifier.1.weight", "classifier[3]": "classifier.3.weight"}),
    (("features.conv0.weight", "features.norm0.weight", "features.denseblock1.denselayer1.norm1.weight"),  # DenseNet
     {"classifier": "classifier.weight"}),
    (("conv_stem.weight", "bn1.weight", "blocks.0.0.bn1.weight"),  # timm EfficientNet
     {"classifier": "classifier.weight"}),
    (("stem.0.weight", "stem.1.weight", "stages.0.blocks.0.norm.weight"),  # ConvNeXt-like, RegNet
     {"head": "head.weight", "head.fc": "head.fc.weight", "fc": "fc.weight"}),
)

Value = Union[str, bool, int, tuple, None]
# the child modules of the families fine-tuning code freezes child by child (named_children),
# the first ones those holding BatchNorm; pooling and activations hold no parameters
_CHILDREN = (
    (("bn1", "layer1", "layer2", "layer3", "layer4"), ("conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc")),
    (("features",), ("features", "classifier")),  # DenseNet, VGG-BN, MobileNet, EfficientNet
)


def frozen_by_name(test: ast.expr, name: str, frozen_when: bool, stops: bool = False) -> Optional[list[str]]:
    """The heads left trainable when ``test`` (on the parameter name ``name``) being
    ``frozen_when`` freezes every stem parameter of some family; None when it does not, or
    when the test cannot be read. ``stops``: the loop breaks at the first parameter the test
    spares (``if name.find("fc") != -1: break``), leaving every later one alone. The
    families whose parameter names the test mentions are read first, and alone when one is."""
    def frozen(sample: str) -> Optional[bool]:
        value = _evaluate(test, {name: sample})
        return None if not isinstance(value, bool) else value == frozen_when

    named = {node.value for node in ast.walk(test) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    mentioned = [family for family in _FAMILIES
                 if any(word in sample for word in named for sample in (*family[0], *family[1].values()))]
    found: Optional[list[str]] = None
    for stem, heads in mentioned or _FAMILIES:
        verdicts = [frozen(sample) for sample in (*stem, *heads.values())]
        if stops and False in verdicts:  # nothing after the first spared parameter is frozen
            first = verdicts.index(False)
            verdicts = [v if i < first else False for i, v in enumerate(verdicts)]
        if all(verdicts[:len(stem)]):
            # the first family whose stem it freezes and whose head it spares (``"fc" not in
            # name`` spares a ResNet's ``fc``, ``"classifier" not in name`` a DenseNet's)
            spared = [head for head, verdict in zip(heads, verdicts[len(stem):]) if verdict is False]
            spared = [head for head in spared if not any(head.startswith((other + "[", other + ".")) for other in spared)]
            if spared:
                return spared + _other_spared(test, frozen, spared)
            found = [] if found is None else found
    return found


_MODULE_PATH = re.compile(r"[A-Za-z_]\w*(?:\.\w+)*")


def _other_spared(test: ast.expr, frozen: Callable[[str], Optional[bool]], heads: list[str]) -> list[str]:
    """The other children the test leaves trainable beside a family's heads, as the test
    names them: ``"layer4" not in name and "fc" not in name`` spares ``layer4`` too, and
    YAMNet's ``layer_12`` is no child of any family."""
    words = [node for node in ast.walk(test) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    found: list[str] = []
    for node in sorted(words, key=lambda n: (n.lineno, n.col_offset)):
        written = str(node.value).strip(".")
        word = re.sub(r"\.(\d+)", r"[\1]", written)  # (``classifier.3`` is the head ``classifier[3]``)
        if (_MODULE_PATH.fullmatch(written) and written.rsplit(".", 1)[-1] not in ("weight", "bias")
                and word not in found and not any(word == h or word.startswith((h + ".", h + "[")) for h in heads)
                and frozen(f"{written}.weight") is False):
            found.append(word)
    return found


# sample parameter names of each child of the families frozen part by part by name (``if
# name.startswith(("conv1", "bn1", "layer1")):``), the children holding BatchNorm flagged
_PARTS: tuple[tuple[tuple[str, tuple[str, ...], bool], ...], ...] = (
    (("conv1", ("conv1.weight",), False), ("bn1", ("bn1.weight", "bn1.bias"), True),
     *((f"layer{i}", (f"layer{i}.0.conv1.weight", f"layer{i}.0.bn1.weight", f"layer{i}.1.bn2.bias"), True)
       for i in range(1, 5)),
     ("fc", ("fc.weight", "fc.bias"), False)),  # ResNet
    (*((f"features.{i}", (f"features.{i}.0.weight", f"features.{i}.1.weight", f"features.{i}.1.bias"), True)
       for i in range(9)),
     ("classifier", ("classifier.1.weight", "classifier.1.bias"), False)),  # MobileNet, EfficientNet (torchvision)
    # a MobileNet's or EfficientNet's ``features`` taken as a detector's backbone: its blocks are ``0``, ``1``, ...
    tuple((f"{i}", (f"{i}.0.weight", f"{i}.1.weight", f"{i}.1.bias"), True) for i in range(17)),
)


def frozen_parts_by_name(tests: list[ast.expr], name: str) -> Optional[list[str]]:
    """The children holding BatchNorm that the tests on the parameter name ``name`` freeze
    whole (a parameter is frozen when any test is true), when they spare some other child of
    the family the tests name: ``if name in ("bn1.weight", "bn1.bias")`` and ``if name[0:6]
    == "layer1"`` -> ``["bn1", "layer1"]``. None when they freeze no BatchNorm child, or freeze
    everything, or name no family."""
    named = {node.value for test in tests for node in ast.walk(test)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    for family in _PARTS:
        if not any(word and word in sample for word in named for _, samples, _ in family for sample in samples):
            continue
        spelled = [word for word in named if any(c.isalnum() for c in word)]  # (not a ``"."`` to split on)
        if family[0][0].isdigit() and not (spelled and all(word.isdigit() for word in spelled)):
            continue  # a backbone's numbered blocks, read only from a test naming blocks (``["0", "1"]``)
        frozen = [child for child, samples, _ in family
                  if all(any(_evaluate(test, {name: sample}) is True for test in tests) for sample in samples)]
        if frozen and len(frozen) < len(family) and any(bn for child, _, bn in family if child in frozen):
            return frozen
    return None


def frozen_children_by_name(test: ast.expr, name: str, frozen_when: bool,
                            constants: Optional[dict[str, ast.expr]] = None) -> Optional[list[str]]:
    """The children left trainable when ``test`` (on a child's name from
    ``named_children()``) being ``frozen_when`` freezes a child holding BatchNorm in some
    family: ``if name not in ["layer3", "layer4"]`` -> ``["layer3", "layer4", "fc"]``,
    ``if isinstance(child, nn.Conv2d) or name in {"layer1", ...}`` -> ``["bn1", "fc"]``
    (``conv1``, unknown here, is left out). None when it freezes none, or the test cannot
    be read. ``constants``: names bound to a literal list of strings where the test is."""
    known: dict[str, Value] = {key: _evaluate(value, {}) for key, value in (constants or {}).items()}
    named = {node.value for tree in (test, *(constants or {}).values()) for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    # the families whose child names the test mentions (``name in ["classifier"]``: an EfficientNet's), if any
    mentioned = [family for family in _CHILDREN if named & set(family[1])]
    for with_bn, children in mentioned or _CHILDREN:
        verdicts = {child: _evaluate(test, {**known, name: child}) for child in children}
        if any(verdicts[child] is frozen_when for child in with_bn):
            return [child for child in children if isinstance(verdicts[child], bool) and verdicts[child] != frozen_when]
    return None


def _evaluate(node: ast.expr, names: dict[str, Value]) -> Value:
    """The value of a small expression over string constants and ``names``; None: unknown."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bool, int)):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) is int):
        return -node.operand.value  # name.find("fc") != -1
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = tuple(_evaluate(e, names) for e in node.elts)
        return items if all(isinstance(i, str) for i in items) else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _evaluate(node.operand, names)
        return (not inner) if isinstance(inner, bool) else None
    if isinstance(node, ast.BoolOp):  # three-valued: ``unknown or True`` is True, ``unknown and False`` False
        values = [_evaluate(v, names) for v in node.values]
        decisive = isinstance(node.op, ast.Or)
        if any(v is decisive for v in values):
            return decisive
        return None if not all(isinstance(v, bool) for v in values) else not decisive
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        return _compare(node.ops[0], _evaluate(node.left, names), _evaluate(node.comparators[0], names))
    if isinstance(node, ast.Call):
        return _call(node, names)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and node.slice.step is None:
        text = _evaluate(node.value, names)  # name[0:6] == "layer1"
        lower, upper = (_evaluate(b, names) if b is not None else None for b in (node.slice.lower, node.slice.upper))
        if isinstance(text, str) and (lower is None or type(lower) is int) and (upper is None or type(upper) is int):
            return text[lower:upper]
        return None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
        parts = _evaluate(node.value, names)  # name.split(".")[0]
        index = node.slice.value
        return parts[index] if isinstance(parts, tuple) and -len(parts) <= index < len(parts) else None
    return None


def _compare(op: ast.cmpop, left: Value, right: Value) -> Value:
    if left is None or right is None:
        return None
    operations: dict[type, Callable[[Value, Value], bool]] = {
        ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
        ast.In: lambda a, b: a in b,  # type: ignore[operator]
        ast.NotIn: lambda a, b: a not in b,  # type: ignore[operator]
    }
    if type(left) is int and type(right) is int:  # name.find("fc") >= 0
        operations.update({ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,  # type: ignore[operator]
                           ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b})  # type: ignore[operator]
    operation = operations.get(type(op))
    if operation is None or isinstance(op, (ast.In, ast.NotIn)) and not isinstance(right, (str, tuple)):
        return None
    if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, str) and not isinstance(left, str):
        return None
    return operation(left, right)


def _call(node: ast.Call, names: dict[str, Value]) -> Value:
    func = node.func
    if isinstance(func, ast.Name) and func.id in ("any", "all") and len(node.args) == 1:
        generator = node.args[0]
        if not (isinstance(generator, ast.GeneratorExp) and len(generator.generators) == 1):
            return None
        loop = generator.generators[0]
        items = _evaluate(loop.iter, names)
        if not isinstance(loop.target, ast.Name) or not isinstance(items, tuple) or loop.ifs:
            return None
        values = [_evaluate(generator.elt, {**names, loop.target.id: item}) for item in items]
        if not all(isinstance(v, bool) for v in values):
            return None
        return any(values) if func.id == "any" else all(values)
    if not isinstance(func, ast.Attribute):
        return None
    receiver = _evaluate(func.value, names)
    arguments = [_evaluate(a, names) for a in node.args]
    if not isinstance(receiver, str) or node.keywords or not all(isinstance(a, (str, tuple)) for a in arguments):
        return None
    if func.attr in ("startswith", "endswith") and len(arguments) == 1:
        return getattr(receiver, func.attr)(arguments[0])
    if func.attr in ("find", "rfind") and len(arguments) == 1 and isinstance(arguments[0], str):
        return int(getattr(receiver, func.attr)(arguments[0]))
    if func.attr == "split" and len(arguments) == 1 and isinstance(arguments[0], str) and arguments[0]:
        return tuple(receiver.split(arguments[0]))
    return None
