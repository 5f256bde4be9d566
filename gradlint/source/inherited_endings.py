"""What ``self(x)`` is in a method a base class of the file hands down: ``class
ImageClassificationBase(nn.Module)`` has no ``forward`` but a ``training_step`` applying
``F.cross_entropy(self(images), labels)``, and ``class Net(ImageClassificationBase)``
inherits that step with a ``forward`` ending in softmax. The step then trains the
subclass's output, so inside it ``self`` is the subclass's model.

A base class with a ``forward`` of its own is left to its own ending, and a subclass that
overrides the method does not take it; of several subclasses inheriting the method, the
first that ends in an activation and is built somewhere in the file speaks for it (else
the first that ends in one): a subclass trained with the step is the usual reason to
write it."""

from __future__ import annotations

import ast
from typing import Mapping, Optional, TypeVar

from gradlint.source.names import dotted

EndingT = TypeVar("EndingT")


def inherited_endings(tree: ast.Module, classes: Mapping[str, ast.ClassDef],
                      by_class: Mapping[str, EndingT]) -> dict[tuple[str, str], tuple[str, EndingT]]:
    """``(base, method) -> (subclass, its ending)`` for each method of a base class of the
    file without a ``forward`` that a subclass ending in ``by_class`` inherits (directly or
    through one more base of the file)."""
    built: Optional[set[str]] = None  # (read only for a file with such a base class)
    found: dict[tuple[str, str], tuple[str, EndingT]] = {}
    for base in classes.values():
        if base.name in by_class or _methods(base).get("forward") is not None:
            continue
        heirs = [cls for cls in classes.values() if cls is not base and cls.name in by_class
                 and base.name in _lineage(cls, classes)]
        if not heirs:
            continue
        built = _built_names(tree, classes) if built is None else built
        heirs.sort(key=lambda cls: cls.name not in built)  # (a stable sort: file order within each)
        for method in _methods(base):
            heir = next((cls for cls in heirs if method not in _methods(cls)), None)
            if heir is not None:
                found[(base.name, method)] = (heir.name, by_class[heir.name])
    return found


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {item.name: item for item in cls.body if isinstance(item, ast.FunctionDef)}


def _lineage(cls: ast.ClassDef, classes: Mapping[str, ast.ClassDef], depth: int = 0) -> list[str]:
    """The names of the file's classes ``cls`` derives from, nearest first (two levels)."""
    names: list[str] = []
    for base in cls.bases:
        name = (dotted(base) or "").rsplit(".", 1)[-1]
        if name in classes and classes[name] is not cls:
            names.append(name)
            if depth < 1:
                names.extend(_lineage(classes[name], classes, depth + 1))
    return names


def _built_names(tree: ast.Module, classes: Mapping[str, ast.ClassDef]) -> set[str]:
    """The classes of the file a call builds (``Net(10)``, ``to_device(Net(10), device)``)."""
    return {name for node in ast.walk(tree) if isinstance(node, ast.Call)
            and (name := (dotted(node.func) or "").rsplit(".", 1)[-1]) in classes}
