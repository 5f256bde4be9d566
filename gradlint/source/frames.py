"""What each function does to its models, in source order: the facts GL212-GL214 read.

A *frame* is a function body (or the module's top level), without the functions and
classes defined inside it. Its facts, in source order:

- ``Wrap``: ``ddp = DistributedDataParallel(model, device_ids=[rank])``;
- ``Move``: ``model.to(device)``, ``.cuda()``, ``.cpu()``, ``.half()``, ``.float()``,
  ``.double()``, ``.bfloat16()`` on a name, with where it sends the parameters;
- ``OptimizerBuilt``: ``opt = torch.optim.AdamW(model.parameters(), ...)`` and whose
  parameters it takes; ``ParamGroupAdded``: ``opt.add_param_group(...)``;
- ``SubmoduleSet``: ``model.fc = nn.Linear(...)``, ``model.classifier[6] = ...``,
  ``setattr(model, "head", ...)``, ``model.add_module("head", ...)``;
- ``RequiresGradSet``: ``x.requires_grad = False``;
- ``Training``: a ``backward()``, an optimiser ``step()``, or a call that trains
  (``train(model, ...)``, ``fit(...)``), after which a moved model matters.

Built once per file (cached on the parsed tree) with the module knowledge of
``modules.py``; the rules only compare positions and names.
"""

from __future__ import annotations

import ast
import re
import weakref
from dataclasses import dataclass, field
from typing import Iterator, Optional, TypeVar, Union

from gradlint.source.modules import ModuleKinds, frame_nodes
from gradlint.source.star_imports import star_aliases
from gradlint.source.names import Names, classify, dotted
from gradlint.source.parameter_owners import optimised_parameters, parameters_owner
from gradlint.source.unit import SourceUnit

T = TypeVar("T")
FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)

DDP_CLASSES = {
    "torch.nn.parallel.DistributedDataParallel",
    "torch.nn.parallel.distributed.DistributedDataParallel",
    "torch.nn.DistributedDataParallel",
}
MOVE_METHODS = {"to", "cuda", "cpu", "half", "float", "double", "bfloat16"}
_DTYPES = {
    "float16": "half", "half": "half", "bfloat16": "bfloat16", "float32": "float", "float": "float",
    "float64": "double", "double": "double",
}
_TRAINING_CALL = re.compile(r"(^|_)(train|fit)", re.IGNORECASE)


@dataclass
class Fact:
    node: Union[ast.stmt, ast.expr]  # the call or statement
    stmt: ast.stmt  # the statement of the frame that holds it


@dataclass
class Wrap(Fact):
    target: str  # the name the wrapper is bound to
    wrapped: Optional[str]  # the module it wraps
    device_ids: bool  # device_ids=[...] given: the module sits on that GPU


@dataclass
class Move(Fact):
    receiver: str
    method: str
    device: Optional[str]  # "cpu", "device" (a GPU or other), None: not a device move
    dtype: Optional[str]  # "half", "bfloat16", "float", "double", None


@dataclass
class OptimizerBuilt(Fact):
    name: str
    owner: Optional[str]  # ``model`` for ``Adam(model.parameters())``


@dataclass
class ParamGroupAdded(Fact):
    optimizer: str


@dataclass
class SubmoduleSet(Fact):
    target: str  # ``model.fc`` (``model.classifier`` for ``model.classifier[6] = ...``)
    value: ast.expr


@dataclass
class RequiresGradSet(Fact):
    target: ast.expr
    value: bool


@dataclass
class Rebind(Fact):
    name: str  # a plain name or attribute chain assigned anew


@dataclass
class Training(Fact):
    what: str  # "backward", "step", or the called function's name


@dataclass
class Frame:
    node: ast.AST  # FunctionDef or Module
    facts: list[Fact] = field(default_factory=list)


class FileFrames:
    """The frames of one file, their facts, and the file's module knowledge."""

    def __init__(self, unit: SourceUnit) -> None:
        assert unit.tree is not None
        self.unit = unit
        self.names = Names(unit.tree, star_aliases(unit.tree, unit.path))
        self.kinds = ModuleKinds(unit.tree, self.names)
        self.parents: dict[ast.AST, ast.AST] = {
            child: parent for parent in ast.walk(unit.tree) for child in ast.iter_child_nodes(parent)
        }
        self.frames = [self._frame(unit.tree)] + [
            self._frame(node) for node in ast.walk(unit.tree) if isinstance(node, _FUNCTIONS)
        ]

    def _frame(self, scope: ast.AST) -> Frame:
        frame = Frame(scope)
        for node in frame_nodes(scope):
            stmt = self._statement_of(node)
            if isinstance(node, ast.Call):
                self._call(node, stmt, frame.facts)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                self._assign(node, frame.facts)
        return frame

    def _statement_of(self, node: ast.AST) -> ast.stmt:
        while not isinstance(node, ast.stmt):
            node = self.parents[node]
        return node

    def _call(self, call: ast.Call, stmt: ast.stmt, facts: list[Fact]) -> None:
        func = call.func
        callee = self.names.qualify(func) or ""
        method = func.attr if isinstance(func, ast.Attribute) else None
        receiver = dotted(func.value) if isinstance(func, ast.Attribute) else None
        if callee in DDP_CLASSES and call.args:
            target = _assigned_name(stmt, call)
            if target is not None:
                device_ids = any(k.arg == "device_ids" and not _is_none(k.value) for k in call.keywords)
                facts.append(Wrap(call, stmt, target, _moved_name(call.args[0]), device_ids or len(call.args) > 1))
        elif method in MOVE_METHODS and receiver is not None:
            device, dtype = _destination(method, call, self.names)
            if device or dtype:
                facts.append(Move(call, stmt, receiver, method, device, dtype))
        elif method == "add_param_group" and receiver is not None:
            facts.append(ParamGroupAdded(call, stmt, receiver))
        elif method == "add_module" and receiver is not None and len(call.args) == 2:
            name = call.args[0].value if isinstance(call.args[0], ast.Constant) else None
            facts.append(SubmoduleSet(call, stmt, f"{receiver}.{name}" if isinstance(name, str) else receiver, call.args[1]))
        elif callee == "setattr" and len(call.args) == 3 and dotted(call.args[0]):
            name = call.args[1].value if isinstance(call.args[1], ast.Constant) else None
            owner = dotted(call.args[0])
            facts.append(SubmoduleSet(call, stmt, f"{owner}.{name}" if isinstance(name, str) else str(owner), call.args[2]))
        elif method == "backward" or callee == "torch.autograd.backward":
            facts.append(Training(call, stmt, "backward"))
        elif method == "step" and self.names.kind_of(receiver) in ("optimizer", "scaler"):
            facts.append(Training(call, stmt, "step"))
        else:
            name = (dotted(func) or "").rsplit(".", 1)[-1]
            if _TRAINING_CALL.search(name) and (call.args or call.keywords):
                facts.append(Training(call, stmt, name))
        # (``return Adam(self.head.parameters())``: a LightningModule's configure_optimizers)
        bound = _assigned_name(stmt, call) or ("<returned>" if isinstance(stmt, ast.Return) else None)
        # (the parameters as the first argument or as ``params=``: ``Adam(params=head.parameters())``)
        given = optimised_parameters(call)
        if bound is not None and given is not None and classify(callee) == "optimizer" and not callee.endswith("optimizers"):
            facts.append(OptimizerBuilt(call, stmt, bound, parameters_owner(given)))

    def _assign(self, node: Union[ast.Assign, ast.AnnAssign], facts: list[Fact]) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "requires_grad":
                value = node.value
                if isinstance(value, ast.Constant) and isinstance(value.value, bool):
                    facts.append(RequiresGradSet(node, node, target.value, value.value))
                continue
            name = dotted(target)
            if name is not None:
                facts.append(Rebind(node, node, name))
            if node.value is None:
                continue
            if isinstance(target, ast.Attribute) and name is not None:
                facts.append(SubmoduleSet(node, node, name, node.value))
            elif isinstance(target, ast.Subscript) and dotted(target.value):
                facts.append(SubmoduleSet(node, node, str(dotted(target.value)), node.value))

    # -- questions the rules ask -------------------------------------------------
    def exclusive(self, one: ast.AST, other: ast.AST) -> bool:
        """``one`` and ``other`` sit in opposite branches of one ``if`` (or in two cases of
        one ``match``): never both run."""
        sides: dict[ast.AST, object] = {}
        node = one
        while node in self.parents:
            parent = self.parents[node]
            if isinstance(parent, ast.If):
                sides[parent] = node in parent.body
            elif isinstance(parent, ast.Match) and isinstance(node, ast.match_case):
                sides[parent] = id(node)
            node = parent
        node = other
        while node in self.parents:
            parent = self.parents[node]
            if isinstance(parent, ast.If) and parent in sides and node is not parent.test:
                if sides[parent] != (node in parent.body):
                    return True
            elif isinstance(parent, ast.Match) and parent in sides and isinstance(node, ast.match_case):
                if sides[parent] != id(node):
                    return True
            node = parent
        return False

    def innermost_loop(self, node: ast.AST, frame: ast.AST) -> Optional[ast.stmt]:
        while node in self.parents and node is not frame:
            node = self.parents[node]
            if isinstance(node, _LOOPS):
                return node
        return None


def _assigned_name(stmt: ast.stmt, call: ast.AST) -> Optional[str]:
    """The name ``call`` is bound to when the statement is ``name = call``."""
    if isinstance(stmt, ast.Assign) and stmt.value is call and len(stmt.targets) == 1:
        return dotted(stmt.targets[0])
    if isinstance(stmt, ast.AnnAssign) and stmt.value is call:
        return dotted(stmt.target)
    return None


def _moved_name(node: ast.AST) -> Optional[str]:
    """``model`` for ``model`` and for ``model.to(device)`` / ``model.cuda()``."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MOVE_METHODS:
        node = node.func.value
    return dotted(node)


def _destination(method: str, call: ast.Call, names: Names) -> tuple[Optional[str], Optional[str]]:
    if method == "cpu":
        return "cpu", None
    if method == "cuda":
        return "device", None
    if method != "to":
        return None, method
    device = dtype = None
    for arg in list(call.args) + [k.value for k in call.keywords if k.arg in ("device", "dtype")]:
        qualified = names.qualify(arg) or ""
        if qualified.startswith("torch.") and qualified[6:] in _DTYPES:
            dtype = _DTYPES[qualified[6:]]
        elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            device = "cpu" if arg.value.startswith("cpu") else "device"
        elif isinstance(arg, ast.Call) and (names.qualify(arg.func) or "") == "torch.device" and arg.args:
            first = arg.args[0]
            is_cpu = isinstance(first, ast.Constant) and str(first.value).startswith("cpu")
            device = "cpu" if is_cpu else "device"
        elif not isinstance(arg, ast.Constant) and not qualified.startswith("torch."):
            device = "device"  # a device variable or rank
    return device, dtype


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def quiet_when_too_deep(reports: Iterator[T]) -> Iterator[T]:
    """A file rule's reports, ending quietly where the code nests deeper than the analysis's
    stack (the loop summary reports such a file as GL001 already)."""
    try:
        yield from reports
    except RecursionError:
        return


_CACHE: "weakref.WeakKeyDictionary[ast.Module, FileFrames]" = weakref.WeakKeyDictionary()


def file_frames(unit: SourceUnit) -> FileFrames:
    """The frames of ``unit``, built once and shared by GL212-GL214."""
    assert unit.tree is not None
    frames = _CACHE.get(unit.tree)
    if frames is None:
        frames = _CACHE[unit.tree] = FileFrames(unit)
    return frames
