"""What a name a ``train()``/``freeze()`` call is made on holds (GL406): a LightningModule
whose ``freeze()`` is Lightning's, or an instance of a plain class of the file whose
``train()`` is a method of its own."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.modules import ModuleKinds
from gradlint.source.names import dotted
from gradlint.source.norm_knowledge import NormKnowledge, unwrap


def lightning_module(kinds: ModuleKinds, knowledge: Optional[NormKnowledge], name: str,
                     at: Optional[ast.AST] = None) -> bool:
    """``name`` holds a LightningModule whose ``freeze()`` is Lightning's: it is loaded with
    ``Cls.load_from_checkpoint(...)``, or built from a class of the file deriving
    ``LightningModule`` that defines no ``freeze`` of its own; ``self.teacher`` kept from an
    ``__init__`` parameter (the method holding ``at``) is what the file's builds pass for it."""
    assert knowledge is not None
    classes = kinds.classes
    values = [unwrap(v) for v in knowledge.bindings.get(name, [])]
    cls = kinds.class_of(at) if at is not None else None
    init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None) if cls else None
    params = [a.arg for a in init.args.args[1:]] if init is not None else []
    if cls is not None and values and all(isinstance(v, ast.Name) and v.id in params for v in values):
        passed = [unwrap(arg) for v in values if isinstance(v, ast.Name)
                  for arg in knowledge._arguments_anywhere(cls, params.index(v.id), v.id)]
        values = [unwrap(b) for arg in passed for b in (knowledge.bindings.get(arg.id, []) if isinstance(arg, ast.Name)
                                                           else [arg])]

    def lightning(value: ast.expr) -> bool:
        if not isinstance(value, ast.Call):
            return False
        if isinstance(value.func, ast.Attribute) and value.func.attr == "load_from_checkpoint":
            return True
        cls = classes.get((dotted(value.func) or "").rsplit(".", 1)[-1])
        return (cls is not None and any((dotted(b) or "").endswith("LightningModule") for b in cls.bases)
                and not any(isinstance(f, ast.FunctionDef) and f.name == "freeze" for f in cls.body))

    return bool(values) and all(lightning(v) for v in values)


def plain_object(kinds: ModuleKinds, knowledge: Optional[NormKnowledge], name: str) -> bool:
    """``trainer.train()`` where ``trainer = Trainer(...)`` and ``Trainer`` is a class of
    the file that is no ``nn.Module``: a method of its own, not a mode switch."""
    assert knowledge is not None
    values = [unwrap(v) for v in knowledge.bindings.get(name, [])]
    return bool(values) and all(isinstance(v, ast.Call) and (short := (dotted(v.func) or "").rsplit(".", 1)[-1])
                                in kinds.classes and short not in kinds.module_classes for v in values)
