"""How a model ends (GL215): which of its outputs is a softmax or sigmoid.

Read from ``ast`` only: a class whose ``forward`` returns, on every path, a softmax or
sigmoid (``F.softmax``, ``x.sigmoid()``, ``self.act(x)`` with ``self.act = nn.Softmax(...)``,
a ``Sequential`` attribute whose last layer is one, also when built with ``add_module``),
or a tuple some of whose elements are (``return validity, label``); an ``nn.Sequential``
whose last layer is one; a class whose torchvision/timm attribute has its head replaced by
one (:mod:`gradlint.source.model_heads`); what applies an activation is read by
:mod:`gradlint.source.activations`. Classes of the file itself here; classes it
imports from a project module in :mod:`gradlint.source.imported_endings`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import Optional, Union

from gradlint.source.class_attribute_values import self_attribute_values
from gradlint.source.starred_layers import starred_guarded
from gradlint.source.activations import (LAYERS, activation_layer, activation_layers, forward_local, function_kind,
                                         local_layers, sequential_activation)
from gradlint.source.container_outputs import EACH, container_activation
from gradlint.source.default_paths import TRAINING, returns_with_defaults
from gradlint.source.init_flags import Flag, constructed, flag_forward, init_flags
from gradlint.source.function_values import last_assigned, own_nodes
from gradlint.source.model_heads import HEADS, head_attributes
from gradlint.source.names import collect_aliases, dotted, qualify
from gradlint.source.returned_activations import alike_at
from gradlint.source.unit import SourceUnit

_WORDS = ("oftmax", "igmoid", "expit")  # a file without these defines no such model


@dataclass(frozen=True)
class FinalActivation:
    """One output of a model that is an activation's."""

    model: str  # the class name, or the name a Sequential is bound to
    kind: str  # softmax | sigmoid
    node: Union[ast.stmt, ast.expr]  # where it is applied: the returned expression or the layer in the Sequential
    position: Optional[int] = None  # the element of the tuple forward returns; None: the whole output
    path: Optional[str] = None  # the file that defines the model, when it is not the file being linted
    # forward's parameters (index after self, name) whose default value leads to this return:
    # a call that passes one of them may take another path
    unless: tuple[tuple[int, str], ...] = ()
    via: Optional[str] = None  # the project function that builds the model (``models.setup``)
    # other classes the same name may hold (``netD = A() if imagenet else B()``), ending alike
    also: tuple["FinalActivation", ...] = ()
    branch: Optional[str] = None  # "when `net` is the UNet3Plus of line 181": one branch binds the name
    # that branch's binding: a use under a test it contradicts (``args.model == 'sgc'`` for a
    # model bound under ``args.model == 'gcn'``) never sees this model
    bound_at: Optional[ast.AST] = field(default=None, compare=False)
    inline: bool = False  # applied at the loss's input, not by a model (``criterion(torch.sigmoid(out), y)``)
    # constructor flags (index after self, name, default) whose defaults lead here: a
    # construction passing another value takes another path (:func:`built_by`)
    built_with: tuple[Flag, ...] = ()
    # the length of the tuple forward returns on the paths this comes from, when its returns
    # differ in length (``return p, c, mu`` with discrete codes, ``return p, mu`` without):
    # only an unpacking into that many names reads it
    arity: Optional[int] = None
    layer: Optional[str] = None  # raw logits: the last layer making them ("nn.Linear", "nn.Conv2d")

    @property
    def what(self) -> str:
        """``Net's output`` or ``element 1 of the tuple Net's forward returns``."""
        if self.inline:
            return f"`{self.model}`"
        if self.position is None:
            return f"{self.model}'s output"
        if self.position == EACH:
            return f"every element of the container {self.model}'s forward returns"
        size = f" {self.arity}-element" if self.arity else ""
        return f"element {self.position} of the{size} tuple {self.model}'s forward returns"

    @property
    def notes(self) -> list[str]:
        """How the model is built and called, when the ending depends on it."""
        article = "an" if self.model[:1].lower() in "aeiou" else "a"
        notes = [f"`{self.via}` can build {article} {self.model}"] if self.via and self.via != self.model else []
        notes += [f"{other.model}'s too" + (f", {other.path}:{other.node.lineno}" if other.path else f", line {other.node.lineno}")
                  for other in self.also]
        if self.unless:
            notes.append("called without " + " or ".join(f"`{name}`" for _, name in self.unless))
        if self.branch:
            notes.append(self.branch)
        notes += [f"built with `{name}` at its default, {default!r}" for _, name, default in self.built_with]
        return notes


def built_by(ending: Ending, call: ast.Call) -> Ending:
    """The outputs a construction of the model takes: one a constructor flag's default
    leads to is dropped when ``call`` passes another value (``TestCNN(softmax=False)``)."""
    return {key: activation for key, activation in ending.items() if constructed(activation.built_with, call)}


# a model's activations: None for its whole output, an index for an element of its tuple,
# EACH for every element of the dict or list it returns
Ending = dict[Optional[int], FinalActivation]


def file_endings(unit: SourceUnit, names: dict[int, str],
                 imported: Optional[dict[str, Ending]] = None) -> tuple[dict[str, Ending], dict[str, ast.ClassDef]]:
    """The classes of ``unit`` that end in an activation, and every class of it by name.
    ``imported``: the endings of classes the file imports, for a class whose forward
    returns what its part, an instance of one, returns."""
    assert unit.tree is not None
    classes = {node.name: node for node in ast.walk(unit.tree) if isinstance(node, ast.ClassDef)}
    if not any(word in unit.text for word in _WORDS) and not imported:
        return {}, classes
    aliases = collect_aliases(unit.tree)
    endings = {name: ending for name, cls in classes.items()
               if (ending := class_ending(name, cls, names, aliases=aliases, tree=unit.tree))}
    _through_parts(classes, endings, imported or {}, names, aliases, unit.tree)
    for function in unit.tree.body:  # ``def ConvMixer(...): return nn.Sequential(..., nn.Softmax())``
        if isinstance(function, ast.FunctionDef) and function.name not in endings:
            returned = [node.value for node in own_nodes(function) if isinstance(node, ast.Return)]
            built_classes = {dotted(value.func) if isinstance(value, ast.Call) else None for value in returned}
            if len(built_classes) == 1 and (maker := built_classes.pop()) in endings and maker in classes:
                # ``def ResNet18(): return ResNet(BasicBlock, [2, 2, 2, 2])``: the class's ending
                taken = endings[maker]
                for value in returned:
                    taken = built_by(taken, value) if isinstance(value, ast.Call) else taken
                if taken:
                    endings[function.name] = {key: replace(activation, via=function.name, built_with=())
                                              for key, activation in taken.items()}
                continue
            returned = [_resolved(function, value) for value in returned]  # model = nn.Sequential(...); return model
            built = [sequential_activation(value, names) if isinstance(value, ast.Call) else None for value in returned]
            if built and all(built) and len({kind for kind, _ in filter(None, built)}) == 1:
                kind, layer = built[0] or ("", function)
                endings[function.name] = {None: FinalActivation(function.name, kind, layer)}
            elif len(returned) == 1 and isinstance(value := returned[0], ast.Call) \
                    and (flagged := flagged_ending(function, value, names)) is not None:
                endings[function.name] = {None: flagged}
    return endings, classes


def flagged_ending(function: ast.FunctionDef, call: ast.Call, names: dict[int, str]) -> Optional[FinalActivation]:
    """``def get_net(n, softmax=True): ...; if softmax: modules.append(nn.Softmax(-1)); return
    nn.Sequential(*modules)``: the softmax ending of a call keeping the flag's true default
    (one passing ``softmax=False`` builds logits)."""
    guarded = starred_guarded(call) if names.get(id(call)) == "torch.nn.Sequential" else None
    if guarded is None or not isinstance(guarded[0], ast.Call) or not (kind := LAYERS.get(names.get(id(guarded[0]), ""))):
        return None
    params = [a.arg for a in function.args.args]
    defaults = dict(zip(params[len(params) - len(function.args.defaults):], function.args.defaults))
    flag = defaults.get(guarded[1])
    if not (isinstance(flag, ast.Constant) and flag.value is True):
        return None
    return FinalActivation(function.name, kind, guarded[0], built_with=((params.index(guarded[1]), guarded[1], True),))


def _through_parts(classes: dict[str, ast.ClassDef], endings: dict[str, Ending], imported: dict[str, Ending],
                   names: dict[int, str], aliases: dict[str, str], tree: ast.Module) -> None:
    """A class whose forward returns what a part of it returns, the part an instance of a
    class (of the file, or imported) ending in an activation: ``self.fc = Classifier(n)``
    and ``return self.fc(x)``. Its ending is placed where the part's class applies it."""
    for _ in range(2):  # a part of a part
        known = {**imported, **endings}
        for name, cls in classes.items():
            if name in endings:
                continue
            parts: dict[str, FinalActivation] = {}
            for attribute, values in self_attribute_values(cls).items():
                whole = [built_by(known.get(dotted(value.func) or "", {}), value) if isinstance(value, ast.Call) else None
                         for value in values]
                kinds = {ending[None].kind if ending and None in ending else None for ending in whole}
                if len(kinds) == 1 and None not in kinds:
                    parts[attribute] = (whole[0] or {})[None]
            if not parts:
                continue
            ending = class_ending(name, cls, names, aliases=aliases, tree=tree,
                                  parts={attribute: part.kind for attribute, part in parts.items()})
            placed: Ending = {}
            for key, activation in ending.items():
                node = activation.node
                part = parts.get(node.func.attr) if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                                                     and dotted(node.func.value) == "self") else None
                placed[key] = replace(activation, node=part.node, path=part.path) if part is not None else activation
            if placed:
                endings[name] = placed


def class_ending(name: str, cls: ast.ClassDef, names: dict[int, str], path: Optional[str] = None,
                 aliases: Optional[dict[str, str]] = None, tree: Optional[ast.Module] = None,
                 parts: Optional[dict[str, str]] = None) -> Ending:
    """How ``cls``'s forward ends; ``parts``: attributes holding a module known to end in
    an activation (attribute -> softmax/sigmoid)."""
    forward = next((item for item in cls.body if isinstance(item, ast.FunctionDef) and item.name == "forward"), None)
    if forward is None:
        return {}
    layers = {**(parts or {}), **layer_attributes(cls, names),
              **{forward_local(local): kind for local, kind in activation_layers(forward, names).items()}}
    if aliases is not None and tree is not None:
        layers.update(_replaced_heads(cls, layers, aliases, tree))
    returns = [node for node in own_nodes(forward) if isinstance(node, ast.Return)]
    ending = _returns_ending(name, forward, returns, names, layers, path)
    if ending:
        return _at_layers(ending, cls, names)
    # ``if not reconstruct: return F.softmax(c)`` with ``reconstruct=False``: the path a call
    # passing only the required arguments takes, in training mode (``if self.training: return probs``)
    reached, decided = returns_with_defaults(forward)
    if not decided or len(reached) == len(returns):
        # ``if self.softmax: x = F.softmax(x, dim=1)`` with ``softmax=True`` kept by __init__
        flagged, flags = flag_forward(forward, init_flags(cls))
        if flagged is None:  # ``return x, aux`` in training, ``return x`` otherwise, x softmaxed on both
            return _at_layers(_returns_ending(name, forward, returns, names, layers, path, mixed=True), cls, names)
        taken = [node for node in own_nodes(flagged) if isinstance(node, ast.Return)]
        return {key: replace(activation, built_with=flags) for key, activation in
                _at_layers(_returns_ending(name, flagged, taken, names, layers, path), cls, names).items()}
    unless = tuple(parameter for parameter in decided if parameter[1] != TRAINING)
    branch = "in training mode (`self.training`)" if len(unless) < len(decided) else None
    return {key: replace(activation, unless=unless, branch=branch)
            for key, activation in _at_layers(_returns_ending(name, forward, reached, names, layers, path), cls,
                                              names).items()}


def _at_layers(ending: Ending, cls: ast.ClassDef, names: dict[int, str]) -> Ending:
    """An output that ``self.head(x)`` makes a softmax is placed at the layer that does it
    (``self.head = nn.Sequential(nn.Linear(h, n), nn.Softmax())`` in ``__init__``): the
    line to change, and the one a reader names."""
    placed: Ending = {}
    for key, activation in ending.items():
        node = activation.node
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and dotted(node.func.value) == "self":
            layer = activation_layer(_assigned_value(cls, node.func.attr), names) or _added_last(
                cls, node.func.attr, names) or next(
                (found for head in sorted(HEADS)
                 if (found := activation_layer(_assigned_value(cls, f"{node.func.attr}.{head}"), names))), None)
            if layer is not None:
                activation = replace(activation, node=layer)
        placed[key] = activation
    return placed


def _replaced_heads(cls: ast.ClassDef, layers: dict[str, str], aliases: dict[str, str],
                    tree: ast.Module) -> dict[str, str]:
    """``self.backbone = timm.create_model("resnet50")`` and ``self.backbone.fc =
    nn.Sequential(..., nn.Softmax(dim=1))``: ``self.backbone(x)`` ends in softmax."""
    found: dict[str, str] = {}
    for attribute, kind in layers.items():
        owner, _, head = attribute.rpartition(".")
        built = _assigned_value(cls, owner) if owner and "." not in owner and owner not in layers else None
        if isinstance(built, ast.Call) and head in head_attributes(built, qualify(built.func, aliases), tree):
            found[owner] = kind
    return found


def _added_last(cls: ast.ClassDef, attribute: str, names: dict[int, str]) -> Optional[ast.expr]:
    """The activation layer ``self.head.add_module("soft", nn.Softmax(dim=1))`` adds last."""
    added = [node.args[1] for node in ast.walk(cls) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr == "add_module" and len(node.args) == 2 and dotted(node.func.value) == f"self.{attribute}"]
    last = max(added, key=lambda node: (node.lineno, node.col_offset)) if added else None
    return last if isinstance(last, ast.Call) and names.get(id(last)) in LAYERS else None


def _returns_ending(name: str, forward: ast.FunctionDef, returns: list[ast.Return], names: dict[int, str],
                    layers: dict[str, str], path: Optional[str], mixed: bool = False) -> Ending:
    """The outputs that are an activation on every one of ``returns``."""
    if not returns or any(node.value is None for node in returns):
        return {}
    shapes: list[list[Optional[ast.expr]]] = []
    for node in returns:
        # (a name bound in several arms stays a name, for :func:`alike_at` to read arm by arm)
        value = (last_assigned(forward, node.value) or node.value) if isinstance(node.value, ast.Name) else node.value
        shapes.append(list(value.elts) if isinstance(value, ast.Tuple) else [value])
    if len({len(shape) for shape in shapes}) != 1:
        return _ending_by_length(name, forward, returns, shapes, names, layers, path, mixed)
    tuple_output = isinstance(_resolved(forward, returns[0].value), ast.Tuple)
    ending: Ending = {}
    for index in range(len(shapes[0])):
        found = alike_at(forward, shapes, index, names, layers)
        if found is not None:
            position = index if tuple_output else None
            ending[position] = FinalActivation(name, found[0], found[1], position, path)
    if not ending and not tuple_output:  # one softmax per head, in a dict or list
        each = [container_activation(forward, node.value, names, layers) for node in returns]
        if all(each) and len({kind for kind, _ in filter(None, each)}) == 1:
            kind, applied = each[-1] or ("", forward)
            ending[EACH] = FinalActivation(name, kind, applied, EACH, path)
    return ending


def _ending_by_length(name: str, forward: ast.FunctionDef, returns: list[ast.Return],
                      shapes: list[list[Optional[ast.expr]]], names: dict[int, str], layers: dict[str, str],
                      path: Optional[str], mixed: bool = False) -> Ending:
    """Returns of several lengths: each length's activations, kept for an unpacking into
    that many names (``validity, label, code = D(x)``). A tensor returned beside tuples
    (``return x, aux1, aux2`` in training, ``return x`` otherwise) counts as the whole output
    where it is the same activation as the first element of every tuple (``mixed``: read
    only where the path a call takes by default is not known)."""
    tuples = [isinstance(_resolved(forward, node.value), ast.Tuple) for node in returns]
    if not all(tuples) and not mixed:
        return {}
    ending: Ending = {}
    for length in sorted({len(shape) for shape, is_tuple in zip(shapes, tuples) if is_tuple}):
        alike = [shape for shape, is_tuple in zip(shapes, tuples) if is_tuple and len(shape) == length]
        for index in range(length):
            found = alike_at(forward, alike, index, names, layers)
            if found is not None and index not in ending:
                ending[index] = FinalActivation(name, found[0], found[1], index, path, arity=length)
    plain = [shape for shape, is_tuple in zip(shapes, tuples) if not is_tuple]
    if plain and ending:
        found = alike_at(forward, plain, 0, names, layers)
        firsts = [alike_at(forward, [shape], 0, names, layers)
                  for shape, is_tuple in zip(shapes, tuples) if is_tuple]
        if found is not None and all(first is not None and first[0] == found[0] for first in firsts):
            ending[None] = FinalActivation(name, found[0], found[1], None, path, arity=1)
    return ending


def _resolved(function: ast.FunctionDef, value: Optional[ast.expr]) -> Optional[ast.expr]:
    return last_assigned(function, value) if isinstance(value, ast.Name) else value


def layer_attributes(cls: ast.ClassDef, names: dict[int, str]) -> dict[str, str]:
    """``self.act = nn.Softmax(dim=1)``, ``self.head = nn.Sequential(..., nn.Sigmoid())`` and
    ``self.head.add_module('soft', nn.Softmax(dim=1))`` as the last module added -> attribute: kind."""
    layers: dict[str, str] = {}
    local = local_layers(cls, names)
    added: dict[str, list[str]] = {}  # attribute -> what each add_module call adds, in order
    init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
    straight = set(init.body) if init is not None else set()  # __init__'s own statements, run in order
    assigned: dict[str, list[ast.AST]] = {}
    nodes = sorted((n for n in ast.walk(cls) if isinstance(n, (ast.Assign, ast.Call))), key=lambda n: (n.lineno, n.col_offset))
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            for target_node, value in _pairs(node.targets[0], node.value):  # also self.a, self.b = A(), B()
                target = dotted(target_node) or ""
                if not target.startswith("self."):
                    continue
                if isinstance(value, ast.Call):
                    sequential = sequential_activation(value, names, local)
                    kind = LAYERS.get(names.get(id(value), "")) or (sequential[0] if sequential else "")
                elif (kind := function_kind(value) or "") == "":  # self.activation = torch.softmax
                    continue
                attribute = target[len("self."):]
                # an attribute assigned anything else as well is not trusted, unless each of its
                # assignments is a statement of ``__init__``'s own body: the last one stays
                # (``self.out = nn.Linear(h, n)`` then ``self.out = nn.Softmax(dim=1)``)
                if attribute in layers and layers[attribute] != kind and not (
                        node in straight and all(n in straight for n in assigned.get(attribute, []))):
                    kind = ""
                layers[attribute] = kind
                assigned.setdefault(attribute, []).append(node)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_module"
              and len(node.args) == 2 and (owner := dotted(node.func.value) or "").startswith("self.")):
            module = node.args[1]
            added.setdefault(owner[len("self."):], []).append(
                LAYERS.get(names.get(id(module), ""), "") if isinstance(module, ast.Call) else "")
    for attribute, kinds in added.items():
        if attribute in layers or names.get(id(_assigned_value(cls, attribute))) == "torch.nn.Sequential":
            layers[attribute] = kinds[-1]  # the module added last runs last
    return {name: kind for name, kind in layers.items() if kind}


def _pairs(target: ast.expr, value: ast.expr) -> list[tuple[ast.expr, ast.expr]]:
    """``a, b = x, y`` -> [(a, x), (b, y)]; ``a = x`` -> [(a, x)]."""
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
        return list(zip(target.elts, value.elts))
    return [(target, value)]


def _assigned_value(cls: ast.ClassDef, attribute: str) -> Optional[ast.expr]:
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and dotted(node.targets[0]) == f"self.{attribute}":
            return node.value
    return None


