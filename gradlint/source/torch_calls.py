"""The torch calls of one file, with the context the model-slip rules read (GL107–GL109).

Built once per file from the ``ast`` tree and kept on the :class:`SourceUnit`: every
call whose callee resolves to ``torch.…`` through the file's imports, the method of an
``nn.Module`` class it sits in (if any) and the statements around it, so a rule is a
small predicate over these calls. Nothing is imported.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Union

from gradlint.source.index import read_text
from gradlint.source.names import collect_aliases, dotted, qualify
from gradlint.source.project_functions import project_import_list
from gradlint.source.starred_layers import note_starred_sequentials
from gradlint.source.unit import SourceUnit

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]

# Spellings a file may use without importing them here (``from common import *``):
# only trusted when the file imports torch at all, or binds none of them (a notebook's
# cells pasted without the imports).
_CONVENTIONAL = {"nn": "torch.nn", "F": "torch.nn.functional", "torch": "torch"}
# Bases that are not modules although they live under torch / are spelled like one.
_NOT_MODULE_BASES = ("Function", "Parameter", "Tensor", "Dataset", "Sampler", "Optimizer")


@dataclass
class TorchCall:
    """One call into torch: ``nn.BatchNorm2d(64, 0.8)``, ``F.dropout(x, p)``."""

    node: ast.Call
    name: str  # fully qualified, e.g. torch.nn.BatchNorm2d
    ancestors: tuple[ast.AST, ...]  # outermost first, the call's parent last
    method: Optional[Function] = None  # the nn.Module method it runs in (also from a nested function)
    self_name: Optional[str] = None  # that method's first parameter

    @property
    def short(self) -> str:
        """The callee's last name: ``BatchNorm2d``."""
        return self.name.rpartition(".")[2]

    def argument(self, position: Optional[int], keyword: str) -> Optional[ast.expr]:
        """The argument given for a parameter, positionally or by keyword."""
        for item in self.node.keywords:
            if item.arg == keyword:
                return item.value
        args = self.node.args
        if position is None or any(isinstance(a, ast.Starred) for a in args[: position + 1]):
            return None
        return args[position] if position < len(args) else None

    @property
    def opaque(self) -> bool:
        """``f(*args)`` or ``f(**kwargs)``: any parameter may be given without us seeing it."""
        return any(isinstance(a, ast.Starred) for a in self.node.args) or any(k.arg is None for k in self.node.keywords)


@dataclass
class TorchCalls:
    unit: SourceUnit
    calls: list[TorchCall] = field(default_factory=list)
    module_classes: list[ast.ClassDef] = field(default_factory=list)  # the file's nn.Module subclasses

    def named(self, *names: str) -> Iterator[TorchCall]:
        """Calls of ``torch.nn.<name>`` / ``torch.nn.functional.<name>`` (any module path below them)."""
        wanted = set(names)
        for call in self.calls:
            if call.short in wanted and call.name.startswith("torch.nn."):
                yield call


def torch_calls(unit: SourceUnit) -> TorchCalls:
    """The torch calls of ``unit``, computed once and shared by the rules that read them."""
    cached = unit.__dict__.get("_torch_calls")
    if cached is None:
        cached = _collect(unit)
        unit.__dict__["_torch_calls"] = cached
    return cached  # type: ignore[no-any-return]


def _binds(tree: ast.Module, name: str) -> bool:
    """Whether the file binds ``name`` anywhere (or may: a star import): an import, an
    assignment, a parameter, a def."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, (ast.Store, ast.Del)):
            return True
        if isinstance(node, ast.alias) and (node.asname or node.name.split(".")[0]) in (name, "*"):
            return True  # imported as such, or possibly by a star import
        if isinstance(node, ast.arg) and node.arg == name:
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
    return False


def literal_number(node: Optional[ast.AST]) -> Optional[float]:
    """The value of a numeric literal (``0.8``, ``-1``, ``1e-2``, ``True``), else None."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, complex):
        return sign * float(node.value)
    return None


def comments_near(unit: SourceUnit, node: ast.expr) -> list[str]:
    """The comments on ``node``'s lines and on the line just above it."""
    first = max(node.lineno - 1, 1)
    last = node.end_lineno or node.lineno
    found = []
    for number in range(first, last + 1):
        text = unit.line_text(number)
        if "#" in text:
            found += _comments(text)
    return found


def _comments(line: str) -> list[str]:
    comments = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(line + "\n").readline):
            if token.type == tokenize.COMMENT:
                comments.append(token.string)
    except (tokenize.TokenError, SyntaxError):
        pass  # a line of a longer statement: the comments before the break were read
    return comments


def mentions_training(node: ast.AST) -> bool:
    """Whether an expression reads the training mode: ``self.training``, ``training``,
    ``is_train``, ``mode == "train"``."""
    for sub in ast.walk(node):
        word = sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else None
        if word is None and isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            word = sub.value
        if word is not None and "train" in word.lower():
            return True
    return False


def decided_by_training(call: TorchCall) -> bool:
    """Whether the training mode decides if ``call`` runs: it sits under a test that reads
    it (``if self.training:``, ``... if training else x``) or after one that leaves early
    (``if not self.training: return x``) in the same function."""
    chain = call.ancestors + (call.node,)
    for parent, child in zip(chain, chain[1:]):
        if isinstance(parent, (ast.If, ast.While, ast.IfExp)) and child is not parent.test and mentions_training(parent.test):
            return True
        for body in _bodies(parent):
            if child in body:
                for earlier in body[: body.index(child)]:
                    if isinstance(earlier, ast.If) and mentions_training(earlier.test) and _leaves(earlier.body):
                        return True
                    if isinstance(earlier, ast.Assert) and mentions_training(earlier.test):
                        return True
    return False


def _bodies(node: ast.AST) -> list[list[ast.stmt]]:
    return [value for name in ("body", "orelse", "finalbody") if isinstance(value := getattr(node, name, None), list)]


def _leaves(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Raise, ast.Continue, ast.Break))


def _star_of_torch_module(tree: ast.Module, path: str) -> bool:
    """``from model import *`` of a project module that imports torch: its ``nn``/``F``/
    ``torch`` names come with the star (a module without ``__all__`` exports its imports)."""
    return Path(path).is_file() and any(item.name == "*" and "import torch" in read_text(item.path)
                                        for item in project_import_list(tree, Path(path)))


class _Collector:
    def __init__(self, unit: SourceUnit, tree: ast.Module, assumed: Optional[dict[str, str]] = None) -> None:
        self.unit = unit
        nodes = list(ast.walk(tree))  # one walk; the facts below are filters over it
        imports: list[ast.stmt] = [n for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom))]
        self.aliases = {**(assumed or {}), **collect_aliases(ast.Module(body=imports, type_ignores=[]))}
        self.imports_torch = any(full.split(".")[0] == "torch" for full in self.aliases.values()) or _star_of_torch_module(
            tree, unit.path)
        self.star_torch = any(
            isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch") and any(a.name == "*" for a in node.names)
            for node in imports
        )
        classes = [n for n in nodes if isinstance(n, ast.ClassDef)]
        self.local = {n.name for n in nodes if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))}
        self.module_classes = _module_classes(classes, self)
        self.result = TorchCalls(unit)
        self.stack: list[ast.AST] = []  # the ancestors of the node being visited

    def torch_name(self, func: ast.AST) -> Optional[str]:
        name = dotted(func)
        if name is None:
            return None
        head = name.partition(".")[0]
        if head in self.aliases:
            full = qualify(func, self.aliases) or ""
            return full if full.split(".")[0] == "torch" else None
        if head in self.local or not (self.imports_torch or self.star_torch):
            return None
        if head in _CONVENTIONAL and "." in name:
            return _CONVENTIONAL[head] + name[len(head):]
        if self.star_torch and "." not in name:
            return f"torch.nn.{name}"  # from torch.nn import *: judged by the rules' own name lists
        return None

    def visit(self, node: ast.AST, method: Optional[Function], self_name: Optional[str]) -> None:
        if isinstance(node, ast.Call):
            name = self.torch_name(node.func)
            if name is not None:
                self.result.calls.append(TorchCall(node, name, tuple(self.stack), method, self_name))
        self.stack.append(node)
        if isinstance(node, ast.ClassDef):
            is_module = node in self.module_classes
            for child in node.body:
                if is_module and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_instance_method(child):
                    first = child.args.posonlyargs + child.args.args
                    self.visit(child, child, first[0].arg)
                else:
                    self.visit(child, None, None)
            extras: list[ast.AST] = [*node.bases, *node.keywords, *node.decorator_list]
            for extra in extras:
                self.visit(extra, method, self_name)
        else:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and method is not None and node is not method:
                shadowed = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
                if self_name in shadowed:  # a nested function with its own ``self``
                    method, self_name = None, None
            for sub in ast.iter_child_nodes(node):
                self.visit(sub, method, self_name)
        self.stack.pop()


def _is_instance_method(function: Function) -> bool:
    if not (function.args.posonlyargs + function.args.args):
        return False
    if function.name.startswith("__") and function.name != "__call__":
        return False  # __init__ and friends run outside forward
    decorators = {dotted(d) for d in function.decorator_list}
    return not decorators & {"staticmethod", "classmethod"}


def _module_classes(classes: list[ast.ClassDef], collector: _Collector) -> set[ast.ClassDef]:
    """Classes of the file that are ``nn.Module``s: a torch.nn/Lightning base, a module class
    of this file, or an imported base we cannot see into when the class defines ``forward``."""
    by_name = {c.name: c for c in classes}
    modules: set[ast.ClassDef] = set()
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls not in modules and _is_module(cls, by_name, modules, collector):
                modules.add(cls)
                changed = True
    return modules


def _is_module(cls: ast.ClassDef, by_name: dict[str, ast.ClassDef], modules: set[ast.ClassDef], collector: _Collector) -> bool:
    has_forward = any(isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "forward" for item in cls.body)
    for base in cls.bases:
        name = dotted(base) or ""
        last = name.rpartition(".")[2]
        if any(word in last for word in _NOT_MODULE_BASES):
            return False
        if name in by_name:
            if by_name[name] in modules:
                return True
            continue
        full = collector.torch_name(base) or qualify(base, collector.aliases) or name
        if full.startswith("torch.nn.") or last in ("Module", "LightningModule"):
            return True
        if name and name not in ("object",) and has_forward:
            return True  # an imported base (a project's BaseModel) with a forward of its own
    return False


def _collect(unit: SourceUnit) -> TorchCalls:
    if unit.tree is None:
        return TorchCalls(unit)
    if "torch" not in unit.text and "nn." not in unit.text:
        return TorchCalls(unit)  # no torch import, no torch call: most files of a mixed project
    # a file that uses nn.BatchNorm2d or F.softmax without importing anything of that name (a
    # part cut out of a larger script, a notebook's cells without the imports): nothing but
    # torch's own modules can be meant
    assumed = {name: full for name, full in _CONVENTIONAL.items()
               if f"{name}." in unit.text and not _binds(unit.tree, name)}
    if "torch" not in unit.text and not assumed:
        return TorchCalls(unit)
    collector = _Collector(unit, unit.tree, assumed)
    collector.result.module_classes = list(collector.module_classes)
    try:
        collector.visit(unit.tree, None, None)
    except RecursionError:
        pass  # nesting deeper than the interpreter's stack: the calls found so far
    note_starred_sequentials(unit.tree, [c.node for c in collector.result.calls if c.name == "torch.nn.Sequential"])
    return collector.result
