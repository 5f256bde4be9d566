"""File-level facts the training-code rules need beyond the loop events:
PyTorch Lightning (automatic or manual optimisation, ``Trainer(gradient_clip_val)``,
``configure_gradient_clipping``), Hugging Face ``TrainingArguments(max_grad_norm)``,
Accelerate's ``Accelerator(gradient_accumulation_steps)`` and whether the model is
recurrent. Built on demand from the same ``ast`` tree, once per file.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from gradlint.source.index import FileIndex
from gradlint.source.names import Names
from gradlint.source.recurrent import RecurrentEvidence, find_recurrent, recurrent_names
from gradlint.source.unit import SourceUnit

_LIGHTNING_ROOTS = ("pytorch_lightning", "lightning")


@dataclass
class FrameworkCall:
    """A call that configures a framework's training loop, e.g. ``Trainer(...)``."""

    node: ast.Call
    keywords: dict[str, ast.expr]

    def disables(self, keyword: str, default_on: bool) -> bool:
        """Whether ``keyword`` turns the feature off: a literal 0/None/False, or the default when off."""
        value = self.keywords.get(keyword)
        if value is None:
            return not default_on
        return isinstance(value, ast.Constant) and value.value in (0, 0.0, None, False)


@dataclass
class FileFacts:
    unit: SourceUnit
    lightning_modules: list[ast.ClassDef] = field(default_factory=list)
    manual_optimization: bool = False  # self.automatic_optimization = False somewhere
    custom_gradient_clipping: bool = False  # configure_gradient_clipping is defined
    lightning_trainers: list[FrameworkCall] = field(default_factory=list)
    hf_training_args: list[FrameworkCall] = field(default_factory=list)
    accelerators: list[FrameworkCall] = field(default_factory=list)

    @functools.cached_property
    def project_files(self) -> FileIndex:
        """The project modules this file imports, each read once for every rule that asks."""
        return FileIndex()

    @functools.cached_property
    def recurrent_names(self) -> dict[str, RecurrentEvidence]:
        """Classes and functions (defined here or imported locally) that build a recurrent layer."""
        assert self.unit.tree is not None
        return recurrent_names(self.unit.tree, Path(self.unit.path), self.project_files)

    @functools.cached_property
    def recurrent(self) -> Optional[RecurrentEvidence]:
        """Where a recurrent layer the file trains is built (this file or a local import)."""
        assert self.unit.tree is not None
        return find_recurrent(self.unit.tree, Path(self.unit.path), self.recurrent_names)

    @property
    def accelerate_divides_loss(self) -> bool:
        """``Accelerator(gradient_accumulation_steps=k)``: accelerator.backward divides by k."""
        return any(not call.disables("gradient_accumulation_steps", False) for call in self.accelerators)


def file_facts(unit: SourceUnit, names: Names) -> FileFacts:
    assert unit.tree is not None
    facts = FileFacts(unit)
    for node in ast.walk(unit.tree):
        if isinstance(node, ast.ClassDef) and any(
            (names.qualify(base) or "").endswith("LightningModule") for base in node.bases
        ):
            facts.lightning_modules.append(node)
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == "configure_gradient_clipping":
                    facts.custom_gradient_clipping = True
        elif isinstance(node, ast.Assign) and _is_false(node.value):
            if any(isinstance(t, ast.Attribute) and t.attr == "automatic_optimization" for t in node.targets):
                facts.manual_optimization = True
        elif isinstance(node, ast.Call):
            callee = names.qualify(node.func) or ""
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            root = callee.split(".", 1)[0]
            if callee.endswith(".Trainer") and root in _LIGHTNING_ROOTS:
                facts.lightning_trainers.append(FrameworkCall(node, keywords))
            elif callee.endswith("TrainingArguments") and root in ("transformers", "trl", "TrainingArguments"):
                facts.hf_training_args.append(FrameworkCall(node, keywords))
            elif callee in ("accelerate.Accelerator", "Accelerator"):
                facts.accelerators.append(FrameworkCall(node, keywords))
    return facts


def _is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is False
