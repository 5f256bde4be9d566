"""Frozen submodules, their BatchNorm, and the train/eval calls of a file, for GL406.

Facts, all by the dotted name of the module in the source (``model.backbone``):

- ``Freeze``: ``for p in X.parameters(): p.requires_grad = False`` (or
  ``p.requires_grad_(False)``), ``X.requires_grad_(False)``, a call ``X(...)`` inside
  ``with torch.no_grad()`` / ``torch.inference_mode()``, and an optimiser built on
  ``X.head.parameters()`` alone (``X`` minus its head never changes);
- ``ModeCall``: ``X.train()`` / ``X.train(True)`` and ``X.eval()`` / ``X.train(False)``;
- whether ``X`` has BatchNorm (:meth:`NormKnowledge.has_batchnorm`): a ``torch.nn``
  BatchNorm, a torchvision/timm model family built with BatchNorm (ResNet, DenseNet,
  EfficientNet, MobileNet, RegNet, Inception, VGG-BN...), an ``nn.Sequential`` or a module
  class of this file that builds one, an attribute of those (``resnet.layer4``,
  ``self.backbone`` assigned one, also through an ``__init__`` argument). Anything else
  is unknown (``False``): GL406 says nothing about it.
- ``bn_kept_in_eval``: the file switches BatchNorm layers to eval on its own (a loop over
  ``modules()`` calling ``m.eval()``, a ``train()`` override calling ``eval()``, a helper
  named like ``freeze_bn`` / ``set_bn_eval``): trusted, nothing is reported.
"""

from __future__ import annotations

import ast
import re
import weakref
from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

from gradlint.source.frames import FileFrames, file_frames, parameters_owner
from gradlint.source.names import dotted
from gradlint.source.unit import SourceUnit

_NO_GRAD = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad"}
_BN_CLASS = re.compile(r"^torch\.nn\.(modules\.batchnorm\.)?(BatchNorm[123]d|SyncBatchNorm|LazyBatchNorm[123]d)$")
# torchvision builders (torchvision.models.<name>) whose networks normalise with BatchNorm
_TV_BN = re.compile(
    r"^torchvision\.models\.(\w+\.)?(resnet\d+|resnext\w+|wide_resnet\w+|densenet\d+|mobilenet_v[23]\w*|"
    r"efficientnet_\w+|regnet_\w+|inception_v3|googlenet|vgg\d+_bn|shufflenet_v2\w*|mnasnet\w+|"
    r"deeplabv3_\w+|fcn_resnet\w+)$"
)
# timm model names with BatchNorm (the classic CNN families), by the name passed to create_model
_TIMM_BN = re.compile(r"^(resnet|resnext|seresnet|wide_resnet|densenet|efficientnet|tf_efficientnet|mobilenet|"
                      r"regnet|mnasnet|inception|xception|dla|dpn|res2net|resnest|ecaresnet|rexnet|hrnet|"
                      r"ghostnet|cspresnet|cspdarknet|darknet|vgg\d+_bn)")
# attributes of those models that hold no BatchNorm (their classifier heads)
_WRAPPERS = {"DataParallel", "DistributedDataParallel"}
_HEAD_NAMES = {"fc", "classifier", "head", "last_linear", "aux_logits", "dropout", "avgpool", "global_pool"}
_BN_HELPER = re.compile(r"(freeze|fix|eval|frozen).*(bn|batch_?norm|norm)|(bn|batch_?norm|norm).*(eval|freeze|fix|frozen)",
                        re.IGNORECASE)


@dataclass
class Freeze:
    target: str  # the frozen module, as written (``model.backbone``)
    how: str  # "requires_grad" | "requires_grad_" | "no_grad" | "optimizer"
    node: Union[ast.stmt, ast.expr]  # where it is reported
    except_: Optional[str] = None  # for "optimizer": the only part that is optimised (``model.fc``)


@dataclass
class ModeCall:
    target: str
    train: bool  # True: train mode; False: eval mode
    call: ast.Call
    stmt: ast.stmt
    frame: ast.AST
    written: str = ""  # the receiver as written (``net`` in a helper called with ``model``)

    @property
    def receiver(self) -> str:
        return self.written or self.target


@dataclass
class FileNorms:
    frames: FileFrames
    freezes: list[Freeze] = field(default_factory=list)
    modes: list[ModeCall] = field(default_factory=list)
    unfrozen: set[str] = field(default_factory=set)  # targets set back to requires_grad True
    optimised: set[str] = field(default_factory=set)  # owners of every optimiser's parameters
    bn_kept_in_eval: bool = False
    knowledge: Optional["NormKnowledge"] = None


class NormKnowledge:
    """Which dotted names of a file hold a module with BatchNorm."""

    def __init__(self, frames: FileFrames) -> None:
        self.frames = frames
        self.names = frames.names
        self.classes = frames.kinds.classes
        self.bindings: dict[str, list[ast.expr]] = {}  # every binding of the file (instances_of)
        # per function (None: the module): a local name is read in its own function only
        self.scoped: dict[Optional[ast.AST], dict[str, list[ast.expr]]] = {}
        tree = frames.unit.tree
        assert tree is not None
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                frame = frames.kinds.frame_of(node)
                for target in targets:
                    name = dotted(target)
                    if name is not None:
                        self.bindings.setdefault(name, []).append(node.value)
                        self.scoped.setdefault(frame, {}).setdefault(name, []).append(node.value)
        self._scope: Optional[ast.AST] = None
        self._busy: set[str] = set()
        self._local: Optional[set[str]] = None

    def local_bn_names(self) -> set[str]:
        """Names the file imports from project-local modules (next to it or a few folders up)
        that build a BatchNorm or a torchvision BatchNorm model; read lazily, never imported."""
        if self._local is None:
            from pathlib import Path

            from gradlint.source.recurrent import local_names_building

            tree = self.frames.unit.tree
            assert tree is not None
            path = Path(self.frames.unit.path)
            found = local_names_building(tree, path, _builds_bn) if path.is_file() else {}
            self._local = {name for name in found if name not in self.classes}
        return self._local

    def has_batchnorm(self, name: str, cls: Optional[ast.ClassDef] = None, at: Optional[ast.AST] = None) -> bool:
        """``name`` as bound in the function holding ``at`` (else at module level)."""
        self._scope = self.frames.kinds.frame_of(at) if at is not None else None
        return self._name(name, cls, 0)

    def _bound(self, name: str) -> Optional[list[ast.expr]]:
        local = self.scoped.get(self._scope, {}).get(name) if self._scope is not None else None
        return local or self.scoped.get(None, {}).get(name)

    def _name(self, name: str, cls: Optional[ast.ClassDef], depth: int) -> bool:
        if depth > 6 or name in self._busy:
            return False
        self._busy.add(name)
        try:
            if cls is not None and name.startswith("self."):
                return self._path(self._class_attr_values(cls, name.split(".")[1]), name.split(".")[2:], depth)
            parts = name.split(".")
            for cut in range(len(parts), 0, -1):
                values = self._bound(".".join(parts[:cut]))
                if values:
                    return self._path(values, parts[cut:], depth)
            return False
        finally:
            self._busy.discard(name)

    def _path(self, values: list[ast.expr], rest: list[str], depth: int) -> bool:
        return any(self._value_path(value, rest, depth) for value in values)

    def _value_path(self, value: ast.expr, rest: list[str], depth: int) -> bool:
        value = _unwrap(value)
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Call):  # Model().encoder
            return self._value_path(value.value, [value.attr, *rest], depth + 1)
        if isinstance(value, ast.Name) or isinstance(value, ast.Attribute):
            name = dotted(value)
            return bool(name) and self._name(".".join([str(name), *rest]), None, depth + 1)
        if not isinstance(value, ast.Call):
            return False
        callee = self.names.qualify(value.func) or ""
        short = callee.rsplit(".", 1)[-1]
        if short in _WRAPPERS and value.args:  # DataParallel(model).module is the model
            if not rest:
                return self._value_path(value.args[0], [], depth + 1)
            return rest[0] == "module" and self._value_path(value.args[0], rest[1:], depth + 1)
        if (dotted(value.func) or "") in self.local_bn_names():
            # a project class of another file that builds BatchNorm: its parts are taken to hold it
            # too, except a classifier head
            return not rest or rest[0] not in _HEAD_NAMES
        if short in self.classes and short in self.frames.kinds.module_classes:
            cls = self.classes[short]
            if not rest:
                return self._class_has_bn(cls, value, depth)
            values = self._class_attr_values(cls, rest[0], value)
            return self._path(values, rest[1:], depth + 1)
        if rest and rest[0] in _HEAD_NAMES:
            return False
        if _BN_CLASS.match(callee) or _TV_BN.match(callee):
            return True
        if callee in ("timm.create_model", "timm.models.create_model") and value.args:
            first = value.args[0]
            return isinstance(first, ast.Constant) and isinstance(first.value, str) and bool(_TIMM_BN.match(first.value))
        if callee == "torch.nn.Sequential" and not rest:
            return any(self._value_path(arg, [], depth + 1) for arg in value.args)
        return False

    def _class_has_bn(self, cls: ast.ClassDef, built: Optional[ast.Call], depth: int) -> bool:
        for node in ast.walk(cls):
            if isinstance(node, ast.Call) and node is not built and self._value_path(node, [], depth + 1):
                return True
        return any(self._path(self._class_attr_values(cls, attr, built), [], depth + 1)
                   for attr in self._self_attrs(cls))

    def _self_attrs(self, cls: ast.ClassDef) -> set[str]:
        return {target.attr for node in ast.walk(cls) if isinstance(node, ast.Assign) for target in node.targets
                if isinstance(target, ast.Attribute) and dotted(target.value) == "self"}

    def _class_attr_values(self, cls: ast.ClassDef, attr: str, built: Optional[ast.Call] = None) -> list[ast.expr]:
        """What ``self.attr`` is assigned in ``cls``; an ``__init__`` argument is read from ``built``."""
        found: list[ast.expr] = []
        init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        params = [a.arg for a in init.args.args[1:]] if init else []
        for node in ast.walk(cls):
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == attr and dotted(target.value) == "self":
                    value = _unwrap(node.value)
                    if isinstance(value, ast.Name) and value.id in params:
                        argument = _argument(built, params.index(value.id), value.id) if built is not None else None
                        found.extend(self._arguments_anywhere(cls, params.index(value.id), value.id)
                                     if argument is None else [argument])
                    else:
                        found.append(node.value)
        return found

    def _arguments_anywhere(self, cls: ast.ClassDef, index: int, keyword: str) -> list[ast.expr]:
        """The argument every ``Cls(...)`` of the file passes for one ``__init__`` parameter."""
        tree = self.frames.unit.tree
        assert tree is not None
        return [arg for node in ast.walk(tree) if isinstance(node, ast.Call)
                and (self.names.qualify(node.func) or "").rsplit(".", 1)[-1] == cls.name
                for arg in [_argument(node, index, keyword)] if arg is not None]


def _builds_bn(qualified: str) -> bool:
    return bool(_BN_CLASS.match(qualified) or _TV_BN.match(qualified))


def _argument(call: ast.Call, index: int, keyword: str) -> Optional[ast.expr]:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[index] if index < len(call.args) and not isinstance(call.args[index], ast.Starred) else None


def _unwrap(value: ast.expr) -> ast.expr:
    """``resnet50().to(device)`` and ``.cuda()``/``.eval()``... are the module itself."""
    while (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
           and value.func.attr in ("to", "cuda", "cpu", "eval", "train", "requires_grad_", "float", "half")):
        value = value.func.value
    return value


def _false(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _true(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


class _Collector:
    def __init__(self, frames: FileFrames) -> None:
        self.frames = frames
        self.norms = FileNorms(frames, knowledge=NormKnowledge(frames))

    def collect(self) -> FileNorms:
        for frame in self.frames.frames:
            self._frame(frame.node)
        tree = self.frames.unit.tree
        assert tree is not None
        for node in ast.walk(tree):  # a train() override that puts (part of) the model in eval mode
            if isinstance(node, ast.FunctionDef) and node.name == "train" and _calls_eval(node):
                self.norms.bn_kept_in_eval = True
        self._optimisers()
        self._through_helpers()
        return self.norms

    def _through_helpers(self) -> None:
        """``def train_epoch(net): net.train()`` called as ``train_epoch(model)``: the mode
        call counts for ``model`` too (positional or keyword argument)."""
        tree = self.frames.unit.tree
        assert tree is not None
        calls: dict[str, list[ast.Call]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                calls.setdefault(node.func.id, []).append(node)
        for mode in list(self.norms.modes):
            frame = mode.frame
            if not isinstance(frame, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            root, _, rest = mode.target.partition(".")
            params = [a.arg for a in frame.args.args]
            if root not in params:
                continue
            for call in calls.get(frame.name, []):
                argument = _argument(call, params.index(root), root)
                name = dotted(argument) if argument is not None else None
                if name and name != root:
                    target = f"{name}.{rest}" if rest else name
                    self.norms.modes.append(ModeCall(target, mode.train, mode.call, mode.stmt, frame, mode.target))

    def _frame(self, scope: ast.AST) -> None:
        from gradlint.source.modules import frame_nodes

        for node in frame_nodes(scope):
            if isinstance(node, (ast.For, ast.AsyncFor)):
                self._parameter_loop(node)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                self._no_grad(node)
            elif isinstance(node, ast.Call):
                self._call(node, scope)

    def _parameter_loop(self, loop: ast.AST) -> None:
        assert isinstance(loop, (ast.For, ast.AsyncFor))
        it = loop.iter
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute)):
            return
        owner = dotted(it.func.value)
        if owner is None:
            return
        if it.func.attr in ("modules", "children", "named_modules", "named_children") and _calls_eval(loop):
            self.norms.bn_kept_in_eval = True  # for m in model.modules(): if BN: m.eval()
            return
        if it.func.attr != "parameters" or not isinstance(loop.target, ast.Name):
            return
        var = loop.target.id
        for stmt in loop.body:  # only a direct statement: a condition makes the frozen part unknown
            value = _requires_grad_value(stmt, var)
            if value is False:
                self.norms.freezes.append(Freeze(owner, "requires_grad", loop))
            elif value is True:
                self.norms.unfrozen.add(owner)

    def _no_grad(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.With, ast.AsyncWith))
        names = self.frames.names
        if not any(isinstance(item.context_expr, ast.Call) and (names.qualify(item.context_expr.func) or "") in _NO_GRAD
                   for item in node.items):
            return
        for stmt in node.body:
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Call) and not isinstance(sub.func, ast.Call):
                    name = dotted(sub.func)
                    if name and (name.startswith("self.") or "." not in name) and name != "self":
                        self.norms.freezes.append(Freeze(name, "no_grad", sub))

    def _call(self, call: ast.Call, scope: ast.AST) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            name = dotted(func) or ""
            if _BN_HELPER.search(name.rsplit(".", 1)[-1]):
                self.norms.bn_kept_in_eval = True
            return
        receiver = dotted(func.value)
        if func.attr == "apply" and call.args and _BN_HELPER.search(dotted(call.args[0]) or ""):
            self.norms.bn_kept_in_eval = True
        if _BN_HELPER.search(func.attr):
            self.norms.bn_kept_in_eval = True
        if receiver is None:
            return
        flag = call.args[0] if call.args else next((k.value for k in call.keywords), None)
        if func.attr == "requires_grad_":
            if _false(flag):
                self.norms.freezes.append(Freeze(receiver, "requires_grad_", call))
            elif flag is None or _true(flag):
                self.norms.unfrozen.add(receiver)
        elif func.attr in ("train", "eval") and len(call.args) + len(call.keywords) <= 1:
            train = func.attr == "train" and not _false(flag)
            if func.attr == "eval" and call.args:
                return
            stmt = self.frames._statement_of(call)
            self.norms.modes.append(ModeCall(receiver, train, call, stmt, scope))

    def _optimisers(self) -> None:
        for frame in self.frames.frames:
            for fact in frame.facts:
                owner = getattr(fact, "owner", None) if type(fact).__name__ == "OptimizerBuilt" else None
                node = fact.node
                if isinstance(node, ast.Call) and type(fact).__name__ == "OptimizerBuilt":
                    owners = {parameters_owner(arg) for arg in node.args[:1]} | {owner}
                    self.norms.optimised.update(o for o in owners if o)
                    if owner and "." in owner and _only_parameters_of(node, owner):
                        self.norms.freezes.append(Freeze(owner.rsplit(".", 1)[0], "optimizer", node, owner))
            for fact in frame.facts:
                if type(fact).__name__ == "ParamGroupAdded":
                    self.norms.optimised.add("*")  # parameters added later: who is optimised is unknown


def _only_parameters_of(call: ast.Call, owner: str) -> bool:
    """The optimiser takes ``owner.parameters()`` and nothing else (no other group)."""
    first = call.args[0] if call.args else None
    return (isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute)
            and first.func.attr == "parameters" and dotted(first.func.value) == owner)


def _requires_grad_value(stmt: ast.stmt, var: str) -> Optional[bool]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if (isinstance(target, ast.Attribute) and target.attr == "requires_grad" and dotted(target.value) == var
                and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, bool)):
            return stmt.value.value
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        call = stmt.value
        if isinstance(call.func, ast.Attribute) and call.func.attr == "requires_grad_" and dotted(call.func.value) == var:
            flag = call.args[0] if call.args else None
            return False if _false(flag) else True
    return None


def _calls_eval(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
               and (sub.func.attr == "eval" or (sub.func.attr == "train" and sub.args and _false(sub.args[0])))
               for sub in ast.walk(node))


def unwrapped(name: str) -> str:
    """``model.module.fc`` -> ``model.fc``: a DataParallel/DDP wrapper's ``module`` is the model."""
    return ".".join(part for part in name.split(".") if part != "module")


def related(one: str, other: str) -> bool:
    """``one`` is ``other``, inside it, or holds it (``model`` and ``model.backbone``)."""
    one, other = unwrapped(one), unwrapped(other)
    return one == other or one.startswith(other + ".") or other.startswith(one + ".")


def holds(outer: str, inner: str) -> bool:
    outer, inner = unwrapped(outer), unwrapped(inner)
    return inner == outer or inner.startswith(outer + ".")


_CACHE: "weakref.WeakKeyDictionary[ast.Module, FileNorms]" = weakref.WeakKeyDictionary()


def file_norms(unit: SourceUnit) -> FileNorms:
    assert unit.tree is not None
    found = _CACHE.get(unit.tree)
    if found is None:
        found = _CACHE[unit.tree] = _Collector(file_frames(unit)).collect()
    return found


def instances_of(knowledge: NormKnowledge, cls: ast.ClassDef) -> Iterator[str]:
    """Names the file binds to ``Cls(...)`` (``model = Cls(...)``, also ``.to(device)``)."""
    for name, values in knowledge.bindings.items():
        for value in values:
            value = _unwrap(value)
            if isinstance(value, ast.Call) and (knowledge.names.qualify(value.func) or "").rsplit(".", 1)[-1] == cls.name:
                yield name
                break
