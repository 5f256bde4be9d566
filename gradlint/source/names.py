"""Import aliases and what names are bound to, read statically from one file."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional


def dotted(node: ast.AST) -> Optional[str]:
    """``a.b.c`` for a chain of names and attributes, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def name_expression(name: str) -> ast.expr:
    """``models.ResNet`` as the expression that names it (the inverse of :func:`dotted`)."""
    head, *rest = name.split(".")
    node: ast.expr = ast.Name(head, ast.Load())
    for part in rest:
        node = ast.Attribute(node, part, ast.Load())
    return node


def qualify(node: ast.AST, aliases: dict[str, str]) -> Optional[str]:
    """``nn.Linear`` -> ``torch.nn.Linear`` when the file did ``import torch.nn as nn``."""
    name = dotted(node)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head in aliases:
        full = aliases[head]
        return f"{full}.{rest}" if rest else full
    return name


# how code spells torch's modules without importing them by that name here (a class of
# another file read alone, a function kept as an attribute)
_TORCH_SPELLINGS = {"nn": "torch.nn", "F": "torch.nn.functional", "functional": "torch.nn.functional"}


def torch_spelled(name: str) -> str:
    """``nn.CrossEntropyLoss`` -> ``torch.nn.CrossEntropyLoss``, ``F.softmax`` ->
    ``torch.nn.functional.softmax``; any other name as it is."""
    head, dot, rest = name.partition(".")
    return _TORCH_SPELLINGS[head] + dot + rest if dot and head in _TORCH_SPELLINGS else name


def collect_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> fully qualified name, for every import in the file."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    aliases[head] = head
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name != "*":
                    full = f"{node.module}.{alias.name}"
                    aliases[alias.asname or alias.name] = _REEXPORTS.get(full, full)
    return aliases


# modules other modules of torch import and so offer under another name
_REEXPORTS = {"torch.functional.F": "torch.nn.functional"}  # from torch.functional import F


# Deep-learning frameworks whose backward()/step() are not PyTorch's: MXNet's Gluon
# overwrites gradients by default, TensorFlow and JAX have no .grad to accumulate into.
_OTHER_FRAMEWORKS = {"mxnet", "tensorflow", "keras", "jax", "flax", "paddle", "mindspore", "oneflow"}


def other_framework(aliases: dict[str, str]) -> bool:
    """Whether the file imports another framework and nothing of torch: not ours to read."""
    roots = {full.split(".", 1)[0] for full in aliases.values()}
    return bool(roots & _OTHER_FRAMEWORKS) and not any(root == "torch" or "torch" in root or "lightning" in root for root in roots)


# What an object is, guessed from what built it (most specific first).
_KIND_PATTERNS = (
    ("scaler", re.compile(r"(^|\.)(GradScaler|ShardedGradScaler)$")),
    ("scheduler", re.compile(r"lr_scheduler\.|(^|\.)get_\w*schedule\w*$|Scheduler$|(^|\.)\w*LR$")),
    ("optimizer", re.compile(r"(^|\.)optim\.|(^|\.)(SGD|Adam|AdamW|RMSprop|Adagrad|Adadelta|Adamax|NAdam|RAdam|LBFGS|Lion|Adafactor|SparseAdam|ASGD|Rprop)$|(^|\.)optimizers?$|configure_optimizers$")),
    ("accelerator", re.compile(r"(^|\.)(Accelerator|Fabric)$")),
)


@dataclass
class Binding:
    """What a name or ``self.attr`` was assigned from."""

    kind: Optional[str]  # optimizer | scheduler | scaler | accelerator | None
    call: Optional[str]  # the qualified callee
    node: ast.AST
    params_of: Optional[str] = None  # for optimizers: the model whose .parameters() it takes


def classify(callee: Optional[str]) -> Optional[str]:
    if not callee:
        return None
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(callee):
            return kind
    return None


class Names:
    """Resolves names of one file: import aliases and assignment bindings."""

    def __init__(self, tree: ast.Module, inherited: Optional[dict[str, str]] = None) -> None:
        # inherited: what star imports of project modules bind (see source/star_imports.py)
        self.aliases = {**(inherited or {}), **collect_aliases(tree)}
        self.bindings: dict[str, Binding] = {}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    self._bind(target, node.value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Tuple, ast.List)):
                # opt, sched = ..., ... and accelerator.prepare(...) unpacking
                for target in node.targets:
                    if isinstance(target, ast.Tuple) and len(target.elts) == len(node.value.elts):
                        for elt, value in zip(target.elts, node.value.elts):
                            if isinstance(value, ast.Call):
                                self._bind(elt, value)

    def _bind(self, target: ast.AST, call: ast.Call) -> None:
        name = dotted(target)
        if name is None:
            return
        callee = self.qualify(call.func)
        binding = Binding(classify(callee), callee, call)
        if binding.kind == "optimizer" and call.args:
            binding.params_of = _params_owner(call.args[0])
        self.bindings[name] = binding

    def qualify(self, node: ast.AST) -> Optional[str]:
        """The fully qualified name of a name/attribute chain, through import aliases."""
        return qualify(node, self.aliases)

    def kind_of(self, name: Optional[str]) -> Optional[str]:
        """What kind of object ``name`` is: from its binding, else from its spelling."""
        if name is None:
            return None
        binding = self.bindings.get(name)
        if binding and binding.kind:
            return binding.kind
        last = name.rsplit(".", 1)[-1].lower()
        if "sched" in last:
            return "scheduler"
        if "scaler" in last:
            return "scaler"
        if "opt" in last:
            return "optimizer"
        if "accelerator" in last or "fabric" in last:
            return "accelerator"
        return None


def _params_owner(node: ast.AST) -> Optional[str]:
    """``model`` for ``model.parameters()`` (also inside filter/list/generator)."""
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr in ("parameters", "named_parameters")
        ):
            return dotted(sub.func.value)
    return None


def bound_names(tree: ast.Module) -> set[str]:
    """Every name the file binds: imports (their first part), defs, classes, assignments."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
    return bound
