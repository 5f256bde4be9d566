"""Module-level models a project module builds and a file imports by name (GL406):
``model = hub.load("pytorch/vision", "mobilenet_v3_large")`` in ``load_model.py`` and
``from load_model import model`` in the file that freezes it. Course projects split one
script into such steps (load, freeze, train); the BatchNorm of ``model`` is read in the
module that builds it (never imported)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from gradlint.source.frozen_norms import FileNorms, own_norms
from gradlint.source.index import file_stamp, read_text
from gradlint.source.project_functions import ProjectImport, project_import_list
from gradlint.source.unit import SourceUnit

_BUILDS = ("torchvision", "timm", "hub.load", "BatchNorm", "models.")  # a module without these builds none


def mark_imported_models(norms: FileNorms, script: Path) -> None:
    """Add the names ``script`` imports from project modules that hold a model with
    BatchNorm there to ``norms.knowledge.imported_bn``."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    by_module: dict[Path, list[ProjectImport]] = {}
    for item in project_import_list(tree, script):
        if item.name not in (".", "*"):
            by_module.setdefault(item.path, []).append(item)
    for target, items in by_module.items():
        text = read_text(target)
        wanted = tuple(sorted({item.name for item in items if re.search(rf"^{re.escape(item.name)}\s*=", text, re.M)}))
        if not wanted or not any(word in text for word in _BUILDS):
            continue
        built = _models_with_batchnorm(str(target), file_stamp(target), wanted)
        norms.knowledge.imported_bn.update(item.local for item in items if item.name in built)


@functools.lru_cache(maxsize=256)
def _models_with_batchnorm(path: str, stamp: tuple[int, int], names: tuple[str, ...]) -> frozenset[str]:
    """Which of ``names``, bound at the module level of ``path``, hold a model with BatchNorm."""
    unit = SourceUnit.read_parsed(path)
    if unit is None or unit.tree is None:
        return frozenset()
    knowledge = own_norms(unit).knowledge
    assert knowledge is not None
    return frozenset(name for name in names if knowledge.has_batchnorm(name, None, None))
