"""Importing the user's model file in the worker, once per file, as ``python file.py``
would see it (its folder first on sys.path), under its package name when it has one."""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
from typing import Any, Optional

from gradlint.model import scratch
from gradlint.model.splitting import write_line

_loaded: dict[str, Any] = {}  # path -> the imported module, or the exception its import raised
import_done: Optional[int] = None  # pipe to the forking parent: one line once a file's import ended


def load_user_module(path: str, root: str) -> Any:
    """Import the user's file once, with the project root (and its folder) on sys.path,
    under its package name when it has one (so relative imports work)."""
    use_folder(os.path.dirname(path), root)
    if path not in _loaded:
        try:
            _loaded[path] = _import(path, root)
            # what torch and the file created lives as long as the process: out of the
            # collector's sight, release_memory's gc.collect() after each model no longer
            # scans it (0.23 s a model for timm's resnet.py, more than its meta build), and
            # forked processes sharing it are not made to copy its pages
            gc.freeze()
        except BaseException as error:  # noqa: BLE001 - the file's other models get the same answer
            try:  # the hosts its import tried: the file's other models get the same reason
                error.gradlint_hosts = list(scratch.attempted)  # type: ignore[attr-defined]
            except AttributeError:
                pass
            _loaded[path] = error
        if import_done is not None:
            write_line(import_done, "imported")
    found = _loaded[path]
    if isinstance(found, BaseException):
        raise found
    return found


def _import(path: str, root: str) -> Any:
    name = _package_name(path, root)
    if name is not None:
        return importlib.import_module(name)
    name = f"gradlint_user_{len(_loaded)}_{os.path.splitext(os.path.basename(path))[0]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_folder_on_path: list[str] = []  # the folder put on sys.path for the file now analysed


def use_folder(folder: str, root: str) -> None:
    """Put the file's folder first on sys.path, as ``python file.py`` would, and take the
    previous file's folder off: else its modules (a sibling ``train.py``) would shadow the
    imports of every later file, and a file's result would depend on which files the same
    worker analysed before it (and so on --jobs)."""
    for entry in _folder_on_path:
        if entry in sys.path:
            sys.path.remove(entry)
    _folder_on_path.clear()
    if root not in sys.path:
        sys.path.insert(0, root)
    if folder not in sys.path:
        sys.path.insert(0, folder)
        _folder_on_path.append(folder)


def _package_name(path: str, root: str) -> Optional[str]:
    relative = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    if relative.startswith("..") or not relative.endswith(".py"):
        return None
    parts = relative[:-3].split(os.sep)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    existing = sys.modules.get(".".join(parts))
    if existing is not None:
        return ".".join(parts) if os.path.realpath(getattr(existing, "__file__", "") or "") == os.path.realpath(path) else None
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    if spec and spec.origin and spec.origin not in ("namespace", "built-in", "frozen"):
        locations.append(os.path.dirname(spec.origin))
    top = os.path.join(os.path.realpath(root), "")
    # the name must reach this very file from the root: a file's folder comes first on
    # sys.path, and a sibling train.py there must not pass for the root's train/ package
    if len(parts) == 1:
        expected_here = bool(spec and spec.origin and os.path.realpath(spec.origin) == os.path.realpath(path))
    else:
        expected_here = os.path.join(top, parts[0]) in {os.path.realpath(l) for l in spec.submodule_search_locations or []} if spec else False
    return ".".join(parts) if expected_here and locations and all(os.path.realpath(l).startswith(top) or os.path.realpath(l) == top[:-1] for l in locations) else None
