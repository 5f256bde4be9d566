"""What a module class of the file assigns to ``self.attr`` (GL406's BatchNorm reading), mixed
into :class:`~gradlint.source.norm_knowledge.NormKnowledge`: the values of ``self.backbone = ...``
in any method, an ``__init__`` argument read from the call building the class (or every call
of the file), layers appended later, what a base class's ``__init__`` keeps, and the layer
an index picks from a Sequential (``self.model[4]``)."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.appended_layers import appended
from gradlint.source.call_arguments import argument, bound_parameters
from gradlint.source.constructed_arms import arms_not_taken, in_arm_not_taken
from gradlint.source.frames import FileFrames
from gradlint.source.inherited_inits import base_inits
from gradlint.source.model_factories import returned_parameter
from gradlint.source.names import Names, dotted
from gradlint.source.reaching_bindings import assigned, assignment_pairs, unwrap


class ClassAttributeValues:
    """The state it reads is NormKnowledge's (built in its ``__init__``)."""

    frames: FileFrames
    names: Names
    classes: dict[str, ast.ClassDef]
    scoped: dict[Optional[ast.AST], dict[str, list[ast.expr]]]
    _busy: set[str]
    _arms: dict[int, dict[str, set[object]]]
    _assigned_in: dict[int, ast.AST]  # a class attribute's value -> the method assigning it
    bindings: dict[str, list[ast.expr]]

    def instances_of(self, cls: ast.ClassDef) -> list[str]:
        """Names the file binds to ``Cls(...)`` (``model = Cls(...)``, also ``.to(device)``, and
        through a name bound to the class itself: ``model_type = Cls``; ``model = model_type(...)``)."""
        return [name for name, values in self.bindings.items()
                if any(isinstance(value := unwrap(v), ast.Call) and cls.name in self.classes_called(value.func)
                       for v in values)]

    def classes_called(self, func: ast.expr) -> set[str]:
        """The class names a call of ``func`` may build: its own, or those of the classes a name
        is bound to (``model_type = CXRModel``)."""
        held = self.bindings.get(func.id, []) if isinstance(func, ast.Name) else []
        forms = [func, *(h for h in held if isinstance(h, (ast.Name, ast.Attribute)))]
        return {(self.names.qualify(form) or "").rsplit(".", 1)[-1] for form in forms}

    def _element(self, values: list[ast.expr], index: int) -> list[ast.expr]:
        """The ``index``-th layer of each ``nn.Sequential(a, b, ...)`` among ``values`` (read
        where the Sequential is)."""
        found = []
        for value in values:
            call = unwrap(value)
            if isinstance(call, ast.Call) and index < len(call.args) \
                    and not any(isinstance(arg, ast.Starred) for arg in call.args[:index + 1]):
                found.append(element := call.args[index])
                if (method := self._assigned_in.get(id(value))) is not None:
                    self._assigned_in[id(element)] = method
        return found

    def _self_attrs(self, cls: ast.ClassDef) -> set[str]:
        return {target.attr for node in ast.walk(cls) if (pair := assigned(node)) is not None for target in pair[0]
                if isinstance(target, ast.Attribute) and dotted(target.value) == "self"}

    def _class_attr_values(self, cls: ast.ClassDef, attr: str, built: Optional[ast.Call] = None) -> list[ast.expr]:
        """What ``self.attr`` is assigned in ``cls``; an ``__init__`` argument is read from ``built``."""
        found: list[ast.expr] = []
        init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        params = [a.arg for a in init.args.args[1:]] if init else []
        assert self.frames.unit.tree is not None
        if id(cls) not in self._arms:  # FineTuning(root, "vgg"): only the "vgg" arm is built
            self._arms[id(cls)] = arms_not_taken(cls, self.frames.unit.tree)
        seen = self._arms[id(cls)]
        for node in ast.walk(cls):
            if (pair := assigned(node)) is None or seen and in_arm_not_taken(node, self.frames.parents, seen):
                continue
            for target, value_assigned in assignment_pairs(*pair):
                if isinstance(target, ast.Attribute) and target.attr == attr and dotted(target.value) == "self":
                    value = unwrap(value_assigned)
                    if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                            and dotted(value.func.value) == "self" and (handed := _handed_back(cls, value)) is not None):
                        value = handed  # self.backbone = self.freeze_backbone(backbone): the backbone itself
                    if (isinstance(value, ast.Call) and (dotted(value.func) or "").rpartition(".")[2] in ("ModuleDict", "ModuleList")
                            and len(value.args) == 1 and isinstance(value.args[0], ast.Name) and value.args[0].id in params):
                        value = value.args[0]  # nn.ModuleDict(teachers): the modules handed in
                    if isinstance(value, ast.Name) and value.id in params:
                        passed = argument(built, params.index(value.id), value.id) if built is not None else None
                        found.extend(self._arguments_anywhere(cls, params.index(value.id), value.id)
                                     if passed is None else [passed])
                    elif isinstance(value, ast.Name) and (method := self.frames.kinds.frame_of(node)) is not None:
                        # ``self.model = model`` with a local ``model = resnet18()`` of the method
                        # (each read in that method: ``timm.create_model(model_name)`` names its parameter)
                        locals_bound = self.scoped.get(method, {}).get(value.id, [])
                        found.extend(locals_bound or [pair[1]])
                        self._assigned_in.update((id(local), method) for local in locals_bound)
                    else:
                        found.append(value_assigned)
                        method = self.frames.kinds.frame_of(node)
                        if method is not None:
                            self._assigned_in[id(value_assigned)] = method
        for added in appended(cls, attr):  # self.blocks = nn.ModuleList(); self.blocks.append(features[:12])
            found.append(added)
            self._assigned_in[id(added)] = self.frames.kinds.frame_of(added) or cls
        for base, passed in base_inits(cls, self.classes, built) if not found and cls.name not in self._busy else ():
            self._busy.add(cls.name)  # class DKD(Distiller): ``self.teacher`` kept by Distiller.__init__
            try:
                found.extend(self._class_attr_values(base, attr, passed))
            finally:
                self._busy.discard(cls.name)
        return found

    def _arguments_anywhere(self, cls: ast.ClassDef, index: int, keyword: str) -> list[ast.expr]:
        """The argument every ``Cls(...)`` of the file passes for one ``__init__`` parameter."""
        tree = self.frames.unit.tree
        assert tree is not None
        found = [(arg, node) for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and (self.names.qualify(node.func) or "").rsplit(".", 1)[-1] == cls.name
                 for arg in [argument(node, index, keyword)] if arg is not None]
        for arg, call in found:  # read where it is passed: ``Linear(model.encoder)`` in ``main``
            caller = self.frames.kinds.frame_of(call)
            if caller is not None:
                self._assigned_in.setdefault(id(arg), caller)
        return [arg for arg, _ in found]


def _handed_back(cls: ast.ClassDef, call: ast.Call) -> Optional[ast.expr]:
    """The argument ``self.<method>(x)`` returns as it got it (a method of ``cls`` ending in
    ``return x``, such as a freezing helper); else None."""
    assert isinstance(call.func, ast.Attribute)
    method = next((m for m in cls.body if isinstance(m, ast.FunctionDef) and m.name == call.func.attr), None)
    returned = returned_parameter(method) if method is not None else None
    if method is None or returned is None:
        return None
    lined = bound_parameters(method)
    return argument(call, lined.index(returned), returned) if returned in lined else None


def self_attribute_values(cls: ast.ClassDef) -> dict[str, list[ast.expr]]:
    """``self.<attribute>`` -> every value a method of ``cls`` assigns it."""
    found: dict[str, list[ast.expr]] = {}
    for node in ast.walk(cls):
        if (pair := assigned(node)) is not None and len(pair[0]) == 1:
            target = dotted(pair[0][0]) or ""
            if target.startswith("self.") and target.count(".") == 1:
                found.setdefault(target[len("self."):], []).append(pair[1])
    return found
