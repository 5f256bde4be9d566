"""Model classes a script imports from its own project (GL215): how each one ends, read
from its module on disk (never imported), once per file and change; the classes a
project function can build (``model = models.setup(opt)``) count too."""

from __future__ import annotations

import ast
import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from gradlint.source.endings import Ending, FinalActivation, file_endings
from gradlint.source.index import file_stamp
from gradlint.source.logit_endings import logit_classes
from gradlint.source.model_factories import returned_classes, returned_tuple_classes
from gradlint.source.project_functions import ProjectImport, project_import_list
from gradlint.source.torch_calls import torch_calls
from gradlint.source.unit import SourceUnit


@dataclass(frozen=True)
class ImportedClass:
    """A class defined in a project-local module the script imports, or a function of one
    that can return such a class (``models.setup(opt)``: ``cls`` is the class)."""

    name: str  # as the script spells it: Net, models.Net, models.setup
    cls: ast.ClassDef
    ending: Ending
    path: str
    factory: bool = False
    logits: Optional[Ending] = None  # its forward returns an nn.Linear attribute's output (logit_endings)


def imported_classes(tree: ast.Module, script: Path, base: Optional[Path] = None,
                     follow: bool = True) -> dict[str, ImportedClass]:
    """Classes (and class-returning functions) the script imports from project-local
    modules, by the name it uses. ``follow``: read the imports of those modules too, once."""
    base = base or script.resolve().parent
    found: dict[str, ImportedClass] = {}

    def add(spelled: str, item: ImportedClass) -> None:
        if item.factory:  # the script's own spelling of the function names it in messages
            shown = spelled.split("[")[0]  # ``models.ACGAN[1]``, a part of the tuple it returns, is ``models.ACGAN``
            item = replace(item, name=shown, ending={k: replace(v, via=shown) for k, v in item.ending.items()})
        found[spelled] = item

    for item in project_import_list(tree, script):
        defined = _module_classes(str(item.path), file_stamp(item.path), str(base), follow)
        for name, found_class in defined.items():
            if (spelled := spelled_name(item, name)) is not None:
                add(spelled, found_class)
    return found


def spelled_name(item: ProjectImport, name: str) -> Optional[str]:
    """How a script importing ``item`` spells ``name``, one the module offers (``f[1]`` is
    element 1 of the tuple ``f`` returns), or None when the import does not bring it in."""
    if item.name == "*":
        return None if name.startswith("_") else name
    if item.name == ".":
        return f"{item.local}.{name}"
    if name == item.name or name.startswith(f"{item.name}["):  # a function and its tuple's parts
        return item.local + name[len(item.name):]
    return None


@functools.lru_cache(maxsize=256)
def _module_classes(path: str, stamp: tuple[int, int], script_dir: str, follow: bool = False) -> dict[str, ImportedClass]:
    """The classes of one module file with their endings (read once per change) and, with
    ``follow``, its functions that can return one of its own or imported classes."""
    unit = SourceUnit.read_parsed(path)
    if unit is None or unit.tree is None:
        return {}
    names = {id(c.node): c.name for c in torch_calls(unit).calls}
    reexported = imported_classes(unit.tree, Path(path), Path(script_dir), follow=False) if follow else {}
    endings, classes = file_endings(unit, names, {name: item.ending for name, item in reexported.items() if item.ending})
    shown = _shown(Path(path), script_dir)
    logits = logit_classes(unit.tree, names, {name: item.logits for name, item in reexported.items() if item.logits})
    found = {
        name: ImportedClass(name, cls, {k: _moved(v, shown) for k, v in endings.get(name, {}).items()}, shown,
                            logits={k: _moved(v, shown) for k, v in logits.get(name, {}).items()} or None)
        for name, cls in classes.items() if cls in unit.tree.body
    }
    for function in unit.tree.body:  # ``def get_net(n, softmax=True): ...; return nn.Sequential(*modules)``
        if isinstance(function, ast.FunctionDef) and function.name in endings and function.name not in classes:
            holder = ast.ClassDef(function.name, [], [], [ast.Pass()], [])  # (a Sequential: no class of its own)
            found[function.name] = ImportedClass(function.name, holder, {k: _moved(v, shown) for k, v in
                                                                        endings[function.name].items()}, shown, factory=True)
    if follow:
        known = {**reexported, **found}
        # a package's __init__ re-exports what it imports: ``from unet import UNet3Plus``
        found.update((name, item) for name, item in reexported.items() if "." not in name and name not in found)
        if Path(path).name == "__init__.py":  # ``from .custom_resnet import *``: its builders too (``cust_ResNet18()``)
            for item in project_import_list(unit.tree, Path(path)):
                if item.name == "*" and item.path.name != "__init__.py" and item.path != Path(path):
                    module = _module_classes(str(item.path), file_stamp(item.path), script_dir, True)
                    found.update((name, built) for name, built in module.items() if built.factory and name not in found)
        for function in unit.tree.body:
            if isinstance(function, ast.FunctionDef) and function.name not in found:
                built = [known[name] for name in returned_classes(function, set(known)) if known[name].ending]
                if built:
                    found[function.name] = replace(built[0], name=function.name, factory=True)
                # ``def ACGAN(args): ...; return netG, netD``: ``ACGAN[1]`` is the discriminator
                for index, name in returned_tuple_classes(function, set(known)).items():
                    if known[name].ending:
                        found[f"{function.name}[{index}]"] = replace(known[name], name=function.name, factory=True)
    return found


def _moved(activation: FinalActivation, path: str) -> FinalActivation:
    """An ending placed in the module (one placed in a module it imports keeps that place)."""
    return activation if activation.path is not None else replace(activation, path=path)


def _shown(path: Path, script_dir: str) -> str:
    """The module's path as seen from the script's folder: ``model.py``, ``../nets/cnn.py``."""
    return os.path.relpath(path.resolve(), script_dir)
