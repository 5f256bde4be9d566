"""The import aliases a file gets through ``from module import *`` of its own project's
modules (a notebook export or a course project: ``from data_loader import *`` where
``data_loader.py`` did ``from torchvision import models``), read from disk, never imported.
Three modules deep; the file's own imports win."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from gradlint.source.index import FileIndex, file_stamp, read_text
from gradlint.source.names import collect_aliases

_DEPTH = 3


def star_aliases(tree: ast.Module, path: str) -> dict[str, str]:
    """Local name -> qualified name, for what the file's star imports of project modules bind."""
    script = Path(path)
    if not script.is_file() or not any(isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
                                       for node in tree.body):
        return {}
    return _stars(tree, script, 0)


def _stars(tree: ast.Module, script: Path, depth: int) -> dict[str, str]:
    found: dict[str, str] = {}
    index = FileIndex()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.level or node.module) and any(a.name == "*" for a in node.names):
            target = index.resolve_import(script, node.module or "", node.level, entry=script)
            if target is not None:
                found.update(_module_aliases(str(target), file_stamp(target), depth))
    return found


@functools.lru_cache(maxsize=512)
def _module_aliases(path: str, stamp: tuple[int, int], depth: int) -> dict[str, str]:
    text = read_text(Path(path))
    if not text:
        return {}
    heads = "\n".join(line for line in text.splitlines() if line.startswith(("from ", "import ")))
    try:
        tree = ast.parse(heads)
    except SyntaxError:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return {}
    aliases = _stars(tree, Path(path), depth + 1) if depth + 1 < _DEPTH else {}
    aliases.update(collect_aliases(tree))
    return aliases
