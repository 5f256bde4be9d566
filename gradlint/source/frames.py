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


def parameters_owner(node: ast.AST) -> Optional[str]:
    """``model`` when ``node`` takes the parameters of one module only (``model.parameters()``,
    a filter or comprehension over it, ``[{"params": model.parameters()}]``)."""
    owners = {
        dotted(sub.func.value)
        for sub in ast.walk(node)
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
        and sub.func.attr in ("parameters", "named_parameters")
    }
    return owners.pop() if len(owners) == 1 and None not in owners else None


def parameters_owners(node: ast.AST, scope: Optional[ast.AST] = None) -> set[str]:
    """Every module whose parameters ``node`` takes (``[{"params": encoder.parameters()},
    {"params": fc.parameters()}]`` -> ``encoder`` and ``fc``). A comprehension's own variable
    (``[p for m in decoder_parts for p in m.parameters()]``) stands for the modules of the
    literal it runs over (also a name ``scope`` binds once to one), for the model whose
    children or modules it runs over, or else for unknown modules (``"*"``)."""
    looped: dict[str, Optional[list[str]]] = {}  # comprehension variable -> the modules it takes
    for sub in ast.walk(node):
        if isinstance(sub, ast.comprehension):
            target = sub.target.elts[-1] if isinstance(sub.target, ast.Tuple) and sub.target.elts else sub.target
            if isinstance(target, ast.Name):
                looped[target.id] = _looped_modules(sub, scope)
    owners: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) \
                and sub.func.attr in ("parameters", "named_parameters") and (owner := dotted(sub.func.value)):
            root, _, rest = owner.partition(".")
            if root in looped:
                modules = looped[root]
                owners |= {f"{module}.{rest}" if rest else module for module in modules} if modules else {"*"}
            else:
                owners.add(owner)
    return owners


def _looped_modules(loop: ast.comprehension, scope: Optional[ast.AST]) -> Optional[list[str]]:
    """The modules a comprehension's variable takes in turn, as :func:`parameters_owners` reads them."""
    listed = loop.iter
    if isinstance(listed, ast.Name) and scope is not None:
        bound = [n.value for n in frame_nodes(scope) if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == listed.id for t in n.targets)]
        listed = bound[0] if len(bound) == 1 else listed
    if isinstance(listed, (ast.List, ast.Tuple)):
        names = [dotted(element) for element in listed.elts]
        return [str(n) for n in names] if names and all(names) else None
    paired = isinstance(loop.target, ast.Tuple)  # ``for _, m in model.named_children()``
    if (isinstance(listed, ast.Call) and isinstance(listed.func, ast.Attribute) and not listed.args
            and listed.func.attr in (("named_children", "named_modules") if paired else ("children", "modules"))
            and (owner := dotted(listed.func.value))):
        return [owner]  # every child (or module) of the model: all of it
    return None


def _every_parameter_of(append: ast.AST, value: ast.AST, loop: Optional[ast.AST]) -> Optional[str]:
    """The module whose every parameter ``append`` adds: ``value`` is the variable of the loop
    around it over ``model.named_parameters()`` (or ``parameters()``), alone or as a param
    group's ``"params"``, and no ``if`` between them skips any (an ``else`` adding too)."""
    if isinstance(value, ast.Dict):
        value = next((v for k, v in zip(value.keys, value.values) if isinstance(k, ast.Constant) and k.value == "params"),
                     value)
    if not (isinstance(loop, ast.For) and isinstance(value, ast.Name) and isinstance(it := loop.iter, ast.Call)
            and isinstance(it.func, ast.Attribute) and it.func.attr in ("parameters", "named_parameters")):
        return None
    target = loop.target.elts[-1] if isinstance(loop.target, ast.Tuple) and loop.target.elts else loop.target
    if not (isinstance(target, ast.Name) and target.id == value.id):
        return None
    def appends(body: list[ast.stmt]) -> bool:
        return any(isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "append"
                   for stmt in body for inner in ast.walk(stmt))
    for node in ast.walk(loop):
        if isinstance(node, ast.If) and any(inner is append for inner in ast.walk(node)) \
                and not (appends(node.body) and appends(node.orelse)):
            return None  # ``if "bn" not in n: params.append(p)``: a filter, not every parameter
    return dotted(it.func.value)


def _module_parameter_of(value: ast.AST, loop: Optional[ast.AST]) -> Optional[str]:
    """``model`` for ``pg0.append(v.weight)`` in ``for k, v in model.named_modules():`` (the
    YOLO recipe of three parameter groups: BatchNorm weights, other weights, biases)."""
    if not (isinstance(loop, ast.For) and isinstance(value, ast.Attribute) and value.attr in ("weight", "bias")
            and isinstance(value.value, ast.Name) and isinstance(it := loop.iter, ast.Call)
            and isinstance(it.func, ast.Attribute) and it.func.attr in ("modules", "named_modules")):
        return None
    target = loop.target.elts[-1] if isinstance(loop.target, ast.Tuple) and loop.target.elts else loop.target
    return dotted(it.func.value) if isinstance(target, ast.Name) and target.id == value.value.id else None


def optimised_parameters(call: ast.Call) -> Optional[ast.expr]:
    """The parameters an optimiser is built with: its first argument or ``params=``."""
    return call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "params"), None)


def optimiser_owners(call: ast.Call, scope: ast.AST) -> set[str]:
    """Every module whose parameters the optimiser ``call`` in ``scope`` takes, also through
    a list built before it (:func:`listed_parameter_owners`); empty when they are unknown."""
    given = optimised_parameters(call)
    owners = parameters_owners(given, scope) if given is not None else set()
    if not owners and isinstance(given, ast.Name):
        owners = listed_parameter_owners(given.id, scope)
    elif isinstance(given, (ast.List, ast.Tuple)):  # ``[{"params": param2, "lr": 1e-3}, {"params": param1}]``
        for group in given.elts:
            listed = next((v for k, v in zip(group.keys, group.values) if isinstance(k, ast.Constant)
                           and k.value == "params"), None) if isinstance(group, ast.Dict) else None
            if isinstance(listed, ast.Name):
                owners |= listed_parameter_owners(listed.id, scope)  # (``param2 = [sigma]``, a tensor: none)
    return owners


def listed_parameter_owners(name: str, scope: ast.AST) -> set[str]:
    """Every module whose parameters the list ``name`` built in ``scope`` holds
    (``params = list(head.parameters()) + list(tail.decoder.parameters())``, ``params +=``,
    ``params.extend(...)``); empty when a part of it is not read from a ``parameters()`` call
    (``params.append(p)`` in a filtering loop): who is optimised is then unknown."""
    owners: set[str] = set()
    loops: dict[ast.AST, ast.AST] = {}  # each node -> the innermost loop around it, in ``scope``
    for node in frame_nodes(scope):
        if isinstance(node, ast.For):
            loops.update((inner, node) for inner in ast.walk(node) if inner is not node)
        if isinstance(node, ast.Assign) and any(dotted(t) == name for t in node.targets):
            value: Optional[ast.AST] = node.value
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and dotted(node.target) == name:
            value = node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
              and node.func.attr in ("append", "extend", "insert") and dotted(node.func.value) == name):
            value = node.args[-1]
        else:
            continue
        if isinstance(value, (ast.List, ast.Tuple)) and not value.elts:
            continue  # the empty list the build starts from
        found = parameters_owners(value) if value is not None else set()
        if not found and value is not None and (whole := _every_parameter_of(node, value, loops.get(node))
                                                or _module_parameter_of(value, loops.get(node))):
            found = {whole}  # for n, p in model.named_parameters(): params.append({"params": p, "lr": ...})
        if not found:
            return set()
        owners |= found
    return owners


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
