"""Where a module of an already built model is created in the user's source.

The CLI's worker records it at construction (``locate.install_creation_hook``); a
model handed to preflight was built before gradlint was imported, so the place is
read from the source instead, in this order:

1. an assignment outside the class whose target ends with the module's whole path
   (``model.fc = nn.Linear(...)`` in the script that calls preflight, or in the
   model's file): a module replaced after construction was created there;
2. ``self.<name> = ...`` in the parent module's class (its ``__init__`` or a helper),
   when that class is the user's own;
3. else the nearest parent's place, and for the model itself its class statement,
   or the line that called preflight.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import sys
from types import FrameType
from typing import Any, Optional

from gradlint.findings import Span
from gradlint.model.locate import UserFiles

_PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "")


def user_files() -> UserFiles:
    """Everything but the standard library, site-packages and gradlint itself."""
    return UserFiles([os.sep])


def caller_location(is_user: UserFiles) -> Optional[Span]:
    """The innermost frame of the user's own code on the stack (the preflight call, or
    the ``trainer.fit(...)`` line under a callback)."""
    frame: Optional[FrameType] = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.realpath(filename).startswith(_PACKAGE) and is_user(filename):
            from gradlint.model.locate import frame_location

            return frame_location(frame)
        frame = frame.f_back
    return None


def assignment_location(value: Any, is_user: UserFiles) -> Optional[Span]:
    """Where a user's function on the stack assigned ``value`` to a local name
    (``optimizer = torch.optim.AdamW(...)``): the last such assignment before the line
    the frame is at, in the innermost frame that holds it."""
    frame: Optional[FrameType] = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if is_user(code.co_filename) and not os.path.realpath(code.co_filename).startswith(_PACKAGE):
            names = [name for name, local in frame.f_locals.items() if local is value]
            for number in range(frame.f_lineno, code.co_firstlineno - 1, -1):
                text = linecache.getline(code.co_filename, number)
                stripped = text.strip()
                for name in names:
                    if stripped.startswith(name) and stripped[len(name):].lstrip().startswith("=") \
                            and not stripped[len(name):].lstrip().startswith("=="):
                        start = len(text) - len(text.lstrip())
                        return Span(number, start + 1, number, len(text.rstrip()) + 1, os.path.realpath(code.co_filename))
        frame = frame.f_back
    return None


def _parse(filename: str, cache: dict[str, Optional[ast.Module]]) -> Optional[ast.Module]:
    if filename not in cache:
        try:
            cache[filename] = ast.parse("".join(linecache.getlines(filename)) or open(filename).read())
        except (OSError, SyntaxError, ValueError):
            cache[filename] = None
    return cache[filename]


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _span(filename: str, node: ast.AST) -> Span:
    line, column = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
    end_line = getattr(node, "end_lineno", None) or line
    end_column = getattr(node, "end_col_offset", None) or column + 1
    return Span(line, column + 1, end_line, end_column + 1, os.path.realpath(filename))


def _assignments(tree: ast.AST) -> list[tuple[str, ast.AST, bool]]:
    """(target's dotted text, assigned value, inside a class) of every attribute assignment."""
    found: list[tuple[str, ast.AST, bool]] = []

    def visit(node: ast.AST, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_class or isinstance(child, ast.ClassDef)
            if isinstance(child, (ast.Assign, ast.AnnAssign)) and child.value is not None:
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                for target in targets:
                    if isinstance(target, ast.Attribute):
                        found.append((_dotted(target), child.value, inside))
            visit(child, inside)
    visit(tree, False)
    return found


class Locator:
    """Places of the modules of one model (cached per path)."""

    def __init__(self, model: Any, is_user: UserFiles, fallback: Span, scripts: list[str]) -> None:
        self.model, self.is_user, self.fallback = model, is_user, fallback
        self.modules = dict(model.named_modules())
        self.trees: dict[str, Optional[ast.Module]] = {}
        self.scripts = [s for s in dict.fromkeys(scripts) if s and is_user(s)]
        self.cache: dict[str, Span] = {}
        self.classes: dict[type, dict[str, Span]] = {}
        self._assigned: Optional[list[tuple[str, str, ast.AST]]] = None

    def root(self) -> Span:
        cls = type(self.model)
        try:
            filename = inspect.getsourcefile(cls)
            if filename and self.is_user(filename):
                tree = _parse(filename, self.trees)
                for node in ast.walk(tree) if tree else ():
                    if isinstance(node, ast.ClassDef) and node.name == cls.__name__:
                        return Span(node.lineno, node.col_offset + 1, node.lineno, node.col_offset + 7 + len(node.name),
                                    os.path.realpath(filename))
        except (TypeError, OSError):
            pass
        return self.fallback

    def of(self, path: str) -> Span:
        if path not in self.cache:
            self.cache[path] = self._find(path)
        return self.cache[path]

    def _outside_assignments(self) -> list[tuple[str, str, ast.AST]]:
        if self._assigned is None:
            self._assigned = []
            for filename in self.scripts:
                tree = _parse(filename, self.trees)
                for target, value, in_class in _assignments(tree) if tree else ():
                    if not in_class and not target.startswith("self."):
                        self._assigned.append((filename, target, value))
        return self._assigned

    def _find(self, path: str) -> Span:
        if not path:
            return self.root()
        for filename, target, value in self._outside_assignments():
            if target.endswith("." + path):
                return _span(filename, value)
        parent_path, _, name = path.rpartition(".")
        parent = self.modules.get(parent_path)
        if parent is not None and name.isidentifier():
            found = self._in_class(type(parent), name)
            if found is not None:
                return found
        return self.of(parent_path)

    def _in_class(self, cls: type, name: str) -> Optional[Span]:
        for klass in cls.__mro__:  # the attribute may be set in a base class's __init__
            found = self._class_assignments(klass).get(name)
            if found is not None:
                return found
        return None

    def _class_assignments(self, klass: type) -> dict[str, Span]:
        """``self.<name> = value`` places of one user class, read once per class."""
        if klass not in self.classes:
            found: dict[str, Span] = {}
            try:
                filename = inspect.getsourcefile(klass)
            except (TypeError, OSError):
                filename = None
            tree = _parse(filename, self.trees) if filename and self.is_user(filename) else None
            for node in ast.walk(tree) if tree and filename else ():
                if isinstance(node, ast.ClassDef) and node.name == klass.__name__:
                    for target, value, _ in _assignments(node):
                        if target.startswith("self.") and target.count(".") == 1:
                            found.setdefault(target[5:], _span(filename, value))  # type: ignore[arg-type]
            self.classes[klass] = found
        return self.classes[klass]
