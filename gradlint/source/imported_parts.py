"""The parts of a project class of another file (GL406's BatchNorm reading), mixed into
:class:`~gradlint.source.norm_knowledge.NormKnowledge`: ``model.text`` of ``model =
FusionModel()`` imported from ``models/fusion.py`` is read where ``FusionModel`` keeps it
(``self.text = TextEncoder()``), so a frozen transformer text encoder beside a BatchNorm CNN
is told apart from the CNN. Also the arguments a project class (of the file or imported)
keeps as attributes: ``Encoder(resnet)`` keeping ``self.cnn = nn.Sequential(*list(resnet.children())[:-2])``."""

from __future__ import annotations

import ast
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Optional

from gradlint.source.call_arguments import argument
from gradlint.source.chosen_names import chosen_string
from gradlint.source.bn_builders import builds_bn, library_builds_bn, torchvision_bn
from gradlint.source.class_attribute_values import ClassAttributeValues
from gradlint.source.constructed_arms import batchnorm_only_in_other_arms
from gradlint.source.frames import FileFrames, file_frames
from gradlint.source.index import FileIndex, file_stamp
from gradlint.source.model_factories import returned_calls, returned_instance
from gradlint.source.names import dotted
from gradlint.source.parameter_defaults import parameter_defaults
from gradlint.source.project_constants import constant_attribute
from gradlint.source.project_classes import ProjectClass, built_class, kept_from_parameter, project_class
from gradlint.source.project_functions import project_function
from gradlint.source.switched_builders import unguarded_batchnorm
from gradlint.source.reaching_bindings import unwrap
from gradlint.source.unit import SourceUnit


class ImportedParts(ClassAttributeValues, ABC):
    """The state it reads, its constructor and its reading of a value are NormKnowledge's."""

    _scope: Optional[ast.AST]
    defaults_read: set[tuple[ast.AST, str, str]]  # (function, parameter, its string default) read as a model name

    @abstractmethod
    def __init__(self, frames: FileFrames) -> None: ...

    @abstractmethod
    def _value_path(self, value: ast.expr, rest: list[str], depth: int) -> bool: ...

    def _string(self, expr: ast.expr) -> Optional[str]:
        """The string ``expr`` holds (see :func:`chosen_string`), or the string default of the
        enclosing function's parameter it names: ``torch.hub.load(repo, resnet_model)`` in
        ``def __init__(self, resnet_model="resnet18")`` builds a resnet18 unless told otherwise."""
        tree = self.frames.unit.tree
        assert tree is not None
        found = chosen_string(expr, self._scope, tree)
        scope = self._scope
        if found is None and isinstance(expr, ast.Name) and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            default = parameter_defaults(scope).get(expr.id)
            if isinstance(default, ast.Attribute) and isinstance(holder := default.value, ast.Name):  # =Config.modelName
                named = constant_attribute(tree, holder.id, default.attr)
                default = ast.Constant(named) if isinstance(named, str) else default
            if isinstance(default, ast.Constant) and isinstance(default.value, str):
                self.defaults_read.add((scope, expr.id, default.value))
                return default.value
            if default is None:
                return self._passed_string(scope, expr.id)
        return found

    def _passed_string(self, function: ast.FunctionDef | ast.AsyncFunctionDef, parameter: str) -> Optional[str]:
        """The one string every construction of the file passes a class's ``__init__``
        parameter (``CowIDModel(MODEL_NAME, ...)`` with ``MODEL_NAME = "resnet50"``, for
        ``timm.create_model(model_name)`` in its ``__init__``); None where one passes another
        or one not known here."""
        tree = self.frames.unit.tree
        cls = self.frames.kinds.class_of(function)
        params = [a.arg for a in function.args.args]
        if tree is None or cls is None or function.name != "__init__" or parameter not in params[1:]:
            return None
        passed = {chosen_string(given, self._assigned_in.get(id(given)), tree)
                  for given in self._arguments_anywhere(cls, params.index(parameter) - 1, parameter)}
        return next(iter(passed)) if len(passed) == 1 else None

    def _built_in_other_arms(self, built: ast.Call) -> bool:
        """``FeatureLoss(27, "vgg19")`` of a project class whose every BatchNorm model is built
        in another arm of ``if arch == "vgg16_bn": ... elif arch == "vgg19": ...``."""
        tree = self.frames.unit.tree
        held = project_class(built.func, tree, Path(self.frames.unit.path), FileIndex()) if tree is not None else None
        return held is not None and batchnorm_only_in_other_arms(held.node, built)

    def _imported_part(self, built: ast.Call, attribute: str) -> Optional[bool]:
        """Whether ``attribute`` of the project class of another file ``built`` makes holds
        BatchNorm, read in the class's module where every value it is assigned is built by a
        project class (``self.text = TextEncoder(...)`` wrapping a transformer holds none);
        None where that is not known."""
        tree = self.frames.unit.tree
        path = Path(self.frames.unit.path)
        if tree is None or not path.is_file():
            return None
        found = built_class(built, dotted(built.func) or "", tree, path, FileIndex())
        function = project_function(dotted(built.func) or "", tree, path) if found is None else None
        if function is not None and function[2] is not None and (made := returned_instance(function[0])) is not None:
            found = built_class(made, dotted(made.func) or "", function[1], function[2], FileIndex())  # build_model(cfg)
        if function is not None and function[2] is not None and _a_method(attribute, function):
            return False  # ``model.generate_final(...)`` of a class the factory may build: a method, not a part
        if found is None or found.path == path:
            return None
        if _defines_method(found.node, attribute):
            return False
        key = (str(found.path), file_stamp(found.path), found.node.name, attribute)
        if key not in _READ:
            if key in _READING:
                return None  # (an import cycle back to a class being read)
            unit = SourceUnit.read_parsed(key[0])
            if unit is None or unit.tree is None:
                return None
            _READING.add(key)
            try:
                if len(_READ) > 512:
                    _READ.clear()
                _READ[key] = type(self)(file_frames(unit)).part_has_batchnorm(found.node.name, attribute)
            finally:
                _READING.discard(key)
        return _READ[key]

    def _kept_argument(self, built: ast.Call, callee: str, attr: str) -> Optional[tuple[ast.expr, list[str]]]:
        """The argument of ``built`` (a project class, of the file or imported) that its
        ``self.<attr>`` keeps (or a part of it), and that part's path."""
        found = self._built_class(built, callee)
        kept = kept_from_parameter(found.node, attr) if found is not None else None
        passed = argument(built, kept[0], kept[1]) if kept is not None else None
        return (passed, kept[2]) if passed is not None and kept is not None else None

    def _kept_arguments(self, built: ast.Call, callee: str) -> list[tuple[ast.expr, list[str]]]:
        """Each argument of ``built`` that an attribute of its project class keeps, with the path kept."""
        found = self._built_class(built, callee)
        if found is None:
            return []
        kept = [k for attr in sorted(self._self_attrs(found.node)) if (k := kept_from_parameter(found.node, attr))]
        return [(passed, path) for index, name, path in kept if (passed := argument(built, index, name)) is not None]

    def _built_class(self, built: ast.Call, callee: str) -> Optional[ProjectClass]:
        tree = self.frames.unit.tree
        assert tree is not None
        return built_class(built, callee.rsplit(".", 1)[-1] if callee in self.classes else dotted(built.func) or "",
                           tree, Path(self.frames.unit.path), FileIndex())

    def part_has_batchnorm(self, class_name: str, attribute: str) -> Optional[bool]:
        """Whether ``self.attribute`` of the file's class holds BatchNorm, when each value it is
        assigned builds a project class (its own or imported): whether one of those builds a
        BatchNorm (as :meth:`local_bn_names` reads them) or is handed a module that has one
        (``FeatureExtractor(resnet, "avgpool")``); None otherwise."""
        cls = self.classes.get(class_name)
        tree = self.frames.unit.tree
        path = Path(self.frames.unit.path)
        if cls is None or tree is None or not path.is_file():
            return None
        pairs = [(original, built) for original in self._class_attr_values(cls, attribute)
                 for built in _entries(unwrap(original))]
        assigned = [original for original, _ in pairs]
        values = [built for _, built in pairs]
        calls = [value for value in values if isinstance(value, ast.Call)]
        if values and len(calls) == len(values):
            # ``self.backbone = timm.create_model(backbone_name, ...)`` with ``backbone_name="vgg16"``: the library
            # model it names, whatever the class's other parts hold
            library = []
            for original, call in zip(assigned, calls):
                self._scope = self._assigned_in.get(id(original))
                callee = self.frames.names.qualify(call.func) or ""
                verdict = library_builds_bn(callee, call, self._string)
                library.append(torchvision_bn(callee) if verdict is None else verdict)  # (models.vgg16(): none)
            if all(verdict is not None for verdict in library):
                return any(library)
        # the class (or builder function: ``self.vgg = VGG16(pretrained)``) of another file each call makes
        classes = [_definition(call, tree, path) for call in calls]
        if not values or len(calls) != len(values) or not all(classes):
            return None
        from gradlint.source.recurrent import local_names_building

        if any((dotted(call.func) or "") in local_names_building(tree, path, builds_bn) for call in calls):
            return True
        for original, call in zip(assigned, calls):
            self._scope = self._assigned_in.get(id(original))
            if any(self._value_path(arg, [], 1) for arg in [*call.args, *(k.value for k in call.keywords)]):
                return True
        # no BatchNorm only where each class's own module builds none (a text encoder wrapping a
        # transformer); a module building BatchNorm somewhere leaves the class unknown
        for found in classes:
            assert found is not None
            module = SourceUnit.read_parsed(str(found[1]))
            if module is None or module.tree is None or unguarded_batchnorm(module.tree) \
                    or found[0] in local_names_building(module.tree, found[1], builds_bn):
                return None
        return False


def _entries(value: ast.expr) -> list[ast.expr]:
    """``{"b0": mit_b0, "b1": mit_b1}[phi](pretrained)`` -> the call of each entry (each a
    configuration); any other value -> itself."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Subscript) and isinstance(value.func.value, ast.Dict)):
        return [value]
    return [ast.copy_location(ast.Call(entry, value.args, value.keywords), value) for entry in value.func.value.values]


def _definition(call: ast.Call, tree: ast.Module, path: Path) -> Optional[tuple[str, Path]]:
    """(name, module path) of the project class or function ``call`` builds with."""
    callee = dotted(call.func) or ""
    found = built_class(call, callee, tree, path, FileIndex())
    if found is not None:
        return found.node.name, Path(found.path)
    function = project_function(callee, tree, path) if callee else None
    return (function[0].name, Path(function[2])) if function is not None and function[2] is not None else None



# (module, its stamp, class, attribute) -> the answer, read once; those being read (an import cycle)
_READ: dict[tuple[str, tuple[int, int], str, str], Optional[bool]] = {}
_READING: set[tuple[str, tuple[int, int], str, str]] = set()


def _a_method(attribute: str, function: tuple[ast.FunctionDef, ast.Module, Optional[Path]]) -> bool:
    """``attribute`` is a method of a project class ``function`` (a factory of another module)
    returns an instance of, on any of its branches."""
    factory, tree, module = function
    assert module is not None
    for call in returned_calls(factory) or []:
        cls = built_class(call, dotted(call.func) or "", tree, module, FileIndex())
        if cls is not None and _defines_method(cls.node, attribute):
            return True
    return False


def _defines_method(cls: ast.ClassDef, name: str) -> bool:
    return any(isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name for item in cls.body)
