"""Which file a parsed tree came from, for readers that are handed only the tree and must
look beside it (a configuration file a script loads by a literal path)."""

from __future__ import annotations

import ast
import weakref
from pathlib import Path
from typing import Optional

_PATHS: "weakref.WeakKeyDictionary[ast.Module, str]" = weakref.WeakKeyDictionary()


def remember(tree: ast.Module, path: str) -> None:
    _PATHS[tree] = path


def path_of(tree: ast.Module) -> Optional[Path]:
    """The file ``tree`` was parsed from, when it is one on disk."""
    path = _PATHS.get(tree)
    return Path(path) if path is not None and Path(path).is_file() else None
