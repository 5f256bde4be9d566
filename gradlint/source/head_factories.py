"""Project functions that build a torchvision/timm model, replace its head with one ending
in softmax or sigmoid, and return it, alone or in a tuple (GL215)::

    def resnet101(nclass=None):
        model = torchvision.models.resnet101(pretrained=True)
        model.fc = nn.Sequential(nn.Linear(2048, nclass), nn.Softmax(dim=-1))
        return model, (224, 224)

``model, size = resnet101()`` in a script importing it (or in the same file) binds a model
ending in that softmax, and so does ``self.model = self.init_model()`` for a method of a
class of the file: the key ``resnet101[0]`` (an element of the tuple) or ``resnet101``
(the model itself), as :mod:`gradlint.source.outputs` reads class-returning functions.
Read from ``ast``, never imported; one reading per module and change."""

from __future__ import annotations

import ast
import functools
import os
from dataclasses import replace
from pathlib import Path
from typing import Optional

from gradlint.source.activations import LAYERS, activation_layer
from gradlint.source.endings import Ending, FinalActivation
from gradlint.source.imported_endings import spelled_name
from gradlint.source.index import file_stamp
from gradlint.source.model_heads import SEQUENTIAL_HEADS, head_attributes
from gradlint.source.names import collect_aliases, qualify
from gradlint.source.project_functions import project_import_list
from gradlint.source.torch_calls import torch_calls
from gradlint.source.unit import SourceUnit


def head_factories(tree: ast.Module, names: dict[int, str]) -> dict[str, Ending]:
    """The file's module-level functions returning a model whose replaced head ends in an
    activation, by the key a call's binding is read with (``f`` or ``f[index]``)."""
    aliases = collect_aliases(tree)
    found: dict[str, Ending] = {}
    # module-level functions, and methods by the name their class calls them (``self.init_model``)
    functions = [(function, function.name) for function in tree.body if isinstance(function, ast.FunctionDef)]
    functions += [(method, f"self.{method.name}") for cls in tree.body if isinstance(cls, ast.ClassDef)
                  for method in cls.body if isinstance(method, ast.FunctionDef)]
    for function, key in functions:
        endings = _endings(function, names, aliases, tree)
        for node in ast.walk(function):
            if not isinstance(node, ast.Return) or node.value is None:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in endings:
                found[key] = {None: endings[node.value.id]}
            elif isinstance(node.value, ast.Tuple):
                for index, element in enumerate(node.value.elts):
                    if isinstance(element, ast.Name) and element.id in endings:
                        found[f"{key}[{index}]"] = {None: endings[element.id]}
    return found


def _endings(function: ast.FunctionDef, names: dict[int, str], aliases: dict[str, str],
             tree: ast.Module) -> dict[str, FinalActivation]:
    """The locals of ``function`` holding a torchvision/timm model whose last head
    assignment ends in an activation (a later plain head assignment ends none)."""
    built: dict[str, frozenset[str]] = {}  # local -> its model's head attributes
    sequential: dict[str, bool] = {}  # local -> its head is an ``nn.Sequential`` (runs a module added to it)
    endings: dict[str, FinalActivation] = {}
    heads: dict[str, ast.expr] = {}  # local -> the head built first (``classifier = nn.Sequential(...)``)
    # (also ``model.classifier.add_module("activation", nn.Softmax(dim=1))``: a layer added last to the head)
    assigns = sorted((node for node in ast.walk(function) if isinstance(node, ast.Assign) and len(node.targets) == 1
                      or isinstance(node, ast.Expr) and _added_to_head(node.value) is not None),
                     key=lambda node: node.lineno)
    for node in assigns:
        if isinstance(node, ast.Expr):
            local, head, name, added = _added_to_head(node.value) or ("", "", "", node.value)
            # (a Linear head never calls a module added to it; a child's own name, ``"1"``, replaces that child)
            if head in built.get(local, frozenset()) and sequential.get(local) and not name.isdigit():
                layer = activation_layer(added, names)
                if layer is None:
                    endings.pop(local, None)
                else:
                    endings[local] = FinalActivation(function.name, LAYERS[names[id(layer)]], layer)
            continue
        assert isinstance(node, ast.Assign)
        target = node.targets[0]
        if isinstance(target, ast.Name) and isinstance(node.value, ast.Call):
            qualified = qualify(node.value.func, aliases)
            attributes = head_attributes(node.value, qualified, tree)
            if attributes:
                built[target.id] = attributes
                sequential[target.id] = bool(qualified and SEQUENTIAL_HEADS.match(qualified))
                endings.pop(target.id, None)
            else:
                heads[target.id] = node.value
        elif (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
              and target.attr in built.get(target.value.id, frozenset())):
            value = heads.get(node.value.id, node.value) if isinstance(node.value, ast.Name) else node.value
            sequential[target.value.id] = names.get(id(value)) == "torch.nn.Sequential"
            layer = activation_layer(value, names)
            if layer is None:
                endings.pop(target.value.id, None)
            else:
                kind = LAYERS[names[id(layer)]]
                endings[target.value.id] = FinalActivation(function.name, kind, layer)
    return endings


def _added_to_head(call: ast.expr) -> Optional[tuple[str, str, str, ast.expr]]:
    """``model.classifier.add_module("activation", layer)`` -> ``("model", "classifier",
    "activation", layer)``."""
    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "add_module"
            and len(call.args) == 2 and isinstance(owner := call.func.value, ast.Attribute)
            and isinstance(owner.value, ast.Name) and isinstance(named := call.args[0], ast.Constant)
            and isinstance(named.value, str)):
        return owner.value.id, owner.attr, named.value, call.args[1]
    return None


def imported_head_factories(tree: ast.Module, script: Path) -> dict[str, Ending]:
    """:func:`head_factories` of the project modules the script imports, by the name it calls
    them (``resnet101[0]``, ``models.resnet101``), each placed in its module."""
    script_dir = str(script.resolve().parent)
    found: dict[str, Ending] = {}
    for item in project_import_list(tree, script):
        offered = _module_factories(str(item.path), file_stamp(item.path), script_dir)
        found.update((spelled, ending) for key, ending in offered.items()
                     if (spelled := spelled_name(item, key)) is not None)
    return found


@functools.lru_cache(maxsize=256)
def _module_factories(path: str, stamp: tuple[int, int], script_dir: str) -> dict[str, Ending]:
    unit = SourceUnit.read_parsed(path)
    if unit is None or unit.tree is None:
        return {}
    names = {id(c.node): c.name for c in torch_calls(unit).calls}
    shown = os.path.relpath(Path(path).resolve(), script_dir)
    return {key: {k: replace(v, path=shown) for k, v in ending.items()}
            for key, ending in head_factories(unit.tree, names).items() if not key.startswith("self.")}
