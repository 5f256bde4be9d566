"""GL404 read statically: an optimiser built with ``weight_decay > 0`` over every
parameter of a model whose normalisation layers or embeddings are known from the source.

For ``opt = torch.optim.X(model.parameters(), weight_decay=5e-4)`` (one param group over
the whole model, as :mod:`gradlint.source.optimizer_params` reads it, with no freeze
before it), the model's kind is known when ``model`` is built in the same function from

- a class of this file that builds (or a class of this file it builds, a few levels
  deep) a normalisation layer with parameters (``nn.BatchNorm2d(c)``, ``nn.LayerNorm(d)``;
  not ``affine=False`` / ``elementwise_affine=False``) or an embedding: assigned to
  ``self.<name>``, appended to a ``ModuleList``, or assigned to a local first;
- or a known library model: a torchvision classification builder with normalisation
  layers (``resnet50``, ``vgg16_bn``, ``convnext_tiny``...), ``timm.create_model``, or a
  transformers ``...Model``/``...For...`` class's ``from_pretrained``.

Only a literal ``weight_decay`` counts (or a module-level constant): ``args.wd`` may be 0,
and an optimiser's own default is not the user's choice (AdamW's 0.01 is not reported;
see GL404's documentation). A model imported from another file of the project is left to
the probe, which sees its layers built (:mod:`gradlint.probe.optimizer_checks`).
"""

from __future__ import annotations

import ast
import re
from typing import Any, Iterator, Optional

from gradlint.inprocess.facts import GroupFact, ParamFact, PreflightSummary
from gradlint.source.optimizer_params import literal, module_constants, read_selection
from gradlint.findings import Span
from gradlint.source.names import Names, dotted
from gradlint.source.unit import SourceUnit

_OPTIMIZERS = frozenset({"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"})
_NORM = re.compile(r"(Batch|Layer|Group|Instance|RMS|Graph|Sync\w*)Norm(\dd)?$|^LayerNorm\w*$|^RMSNorm$")
_EMBEDDING = re.compile(r"^Embedding(Bag)?$")
_NO_AFFINE = ("affine", "elementwise_affine")
_TORCHVISION = re.compile(
    r"^torchvision\.models\.(resnet\d+|resnext\w+|wide_resnet\w+|densenet\d+|mobilenet_v[23]\w*|efficientnet\w+"
    r"|regnet\w+|shufflenet\w+|mnasnet\w+|convnext\w+|vit_\w+|swin\w+|maxvit\w+|inception_v3|googlenet|vgg\d+_bn)$")
_TRANSFORMERS = re.compile(r"^transformers\.\w*(Model|For\w+)\w*\.from_pretrained$")
_DEPTH = 3


class _Classes:
    """The norm layers and embeddings a class of this file assigns to ``self``."""

    def __init__(self, tree: ast.Module, names: Names) -> None:
        self.names = names
        self.classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}

    def layers(self, name: str, depth: int = 0) -> list[tuple[str, str, str]]:
        """(attribute, layer type, kind) for each known norm/embedding, attribute paths
        through the file's own classes it builds."""
        cls = self.classes.get(name)
        if cls is None or depth > _DEPTH:
            return []
        found: list[tuple[str, str, str]] = []
        for node, attribute in self._built(cls):
            for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
                callee = (dotted(call.func) or "").rpartition(".")[2]
                if _NORM.search(callee) and not self._no_affine(call):
                    found.append((attribute, callee, "norm"))
                elif _EMBEDDING.match(callee):
                    found.append((attribute, callee, "embedding"))
                elif callee in self.classes and callee != name:
                    found += [(".".join(part for part in (attribute, sub) if part), kind_type, kind)
                              for sub, kind_type, kind in self.layers(callee, depth + 1)]
        return list(dict.fromkeys(found))

    @staticmethod
    def _built(cls: ast.ClassDef) -> list[tuple[ast.AST, str]]:
        """What the class builds and under which attribute: ``self.bn = nn.BatchNorm2d(c)``,
        ``self.norms.append(nn.LayerNorm(d))``, and a local ``norm = ...`` ("": not named)."""
        found: list[tuple[ast.AST, str]] = []
        for node in ast.walk(cls):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = dotted(node.targets[0]) or ""
                named = target.startswith("self.") and target.count(".") == 1
                found.append((node.value, target[5:] if named else ""))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in ("append", "extend", "add_module"):
                owner = dotted(node.func.value) or ""
                found += [(arg, owner[5:] if owner.startswith("self.") else "") for arg in node.args]
        return found

    @staticmethod
    def _no_affine(call: ast.Call) -> bool:
        return any(k.arg in _NO_AFFINE and isinstance(k.value, ast.Constant) and k.value.value is False
                   for k in call.keywords)


def _library_model(callee: str) -> Optional[str]:
    """How the message names a known library model, else None."""
    if _TORCHVISION.match(callee):
        return callee.rpartition(".")[2]
    if callee == "timm.create_model":
        return "timm.create_model(...)"
    if _TRANSFORMERS.match(callee):
        return callee.rsplit(".", 2)[1]
    return None


def static_summaries(unit: SourceUnit) -> Iterator[PreflightSummary]:
    """One summary per optimiser of the file that decays every parameter of a model whose
    normalisation layers or embeddings are known; facts read, not measured."""
    tree = unit.tree
    if tree is None or "weight_decay" not in unit.text:
        return
    names = Names(tree)
    constants = module_constants(tree)
    classes = _Classes(tree, names)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = names.qualify(node.func) or ""
        head, _, last = callee.rpartition(".")
        if not head.startswith("torch.optim") or last not in _OPTIMIZERS:
            continue
        decay = next((literal(k.value, constants) for k in node.keywords if k.arg == "weight_decay"), None)
        if not isinstance(decay, (int, float)) or decay <= 0:
            continue
        selection = read_selection(tree, node, lambda value: literal(value, constants))
        if selection is None or selection["freeze"] or len(selection["groups"]) != 1:
            continue
        group = selection["groups"][0]
        if group["options"] or [s["path"] for s in group["select"]] != [""]:
            continue
        summary = _summary(unit, node, last, float(decay), selection["constructor"], names, classes, constants)
        if summary is not None:
            yield summary


def _summary(unit: SourceUnit, call: ast.Call, optimizer: str, decay: float, constructor: str, names: Names,
             classes: _Classes, constants: dict[str, Any]) -> Optional[PreflightSummary]:
    span = Span(call.lineno, call.col_offset + 1, call.end_lineno or call.lineno,
                (call.end_col_offset or call.col_offset) + 1, unit.path)
    lr = next((literal(k.value, constants) for k in call.keywords if k.arg == "lr"), None)
    group = GroupFact(index=0, lr=lr if isinstance(lr, (int, float)) else None, weight_decay=decay)
    if constructor in classes.classes:
        cls = classes.classes[constructor]
        layers = classes.layers(constructor)
        if not layers:
            return None
        params = [ParamFact(name=attribute, module=attribute, module_type=layer_type, kind=kind, numel=0,
                            trainable=True, group=0) for attribute, layer_type, kind in layers]
        place = Span(cls.lineno, cls.col_offset + 1, cls.lineno, cls.col_offset + 7 + len(cls.name), unit.path)
        return PreflightSummary(model=constructor, place=place, params=params, groups=[group], optimizer=optimizer,
                                optimizer_place=span, measured=False)
    library = _library_model(names.qualify(ast.parse(constructor, mode="eval").body) or constructor)
    if library is None:
        return None
    params = [ParamFact(name="its normalisation layers", module="", module_type="", kind="norm", numel=0,
                        trainable=True, group=0)]
    return PreflightSummary(model=library, place=span, params=params, groups=[group], optimizer=optimizer,
                            optimizer_place=span, measured=False)
