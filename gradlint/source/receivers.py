"""What a name a ``train()``/``freeze()`` call is made on holds (GL406): a LightningModule
whose ``freeze()`` is Lightning's, or an instance of a plain class of the file whose
``train()`` is a method of its own."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.modules import ModuleKinds
from gradlint.source.names import dotted
from gradlint.source.norm_knowledge import NormKnowledge, unwrap


def lightning_module(kinds: ModuleKinds, knowledge: Optional[NormKnowledge], name: str) -> bool:
    """``name`` holds a LightningModule whose ``freeze()`` is Lightning's: it is loaded with
    ``Cls.load_from_checkpoint(...)``, or built from a class of the file deriving
    ``LightningModule`` that defines no ``freeze`` of its own."""
    assert knowledge is not None
    classes = kinds.classes
    values = [unwrap(v) for v in knowledge.bindings.get(name, [])]

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
