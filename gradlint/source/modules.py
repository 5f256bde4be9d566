"""Which expressions of a file are known to hold an ``nn.Module`` (or a tensor).

GL212-GL214 need to know that ``model.encoder`` is a module and ``self.pos_embed`` a
parameter before they report anything, so a name is a module only on evidence:

- a call of a ``torch.nn`` class (not ``nn.Parameter``), of a class of this file that
  derives from ``nn.Module`` (directly or through another such class), of a
  torchvision model builder or ``timm.create_model``, or a ``from_pretrained`` of a
  transformers/diffusers model class (not a tokenizer, processor, config, scheduler
  or pipeline); ``.to()``/``.cuda()``/``.eval()``... of a module is the module;
- ``self`` in a method of such a class, and ``self.x`` where the class assigns
  ``self.x`` from a module (and never from anything else);
- the loop variable of ``for m in model.modules()`` / ``children()`` / ``named_*()``,
  or of a loop over a module (a ``ModuleList`` or ``Sequential``), and an item of one;
- an attribute of a pretrained model (``resnet.fc``, ``bert.encoder``) whose name is not
  a parameter's (``weight``, ``bias``, ``cls_token``, ``pos_embed``, ``logit_scale``...).

Anything else is unknown, and the rules say nothing about it.
"""

from __future__ import annotations

import ast
import re
from typing import Iterator, Optional, Union

from gradlint.source.names import Names, dotted

MODULE = "module"
TENSOR = "tensor"
PARAMETERS = "parameters"  # nn.ParameterList / ParameterDict: a module whose items are tensors

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)

_TENSOR_CLASSES = {"Parameter", "UninitializedParameter", "Buffer", "UninitializedBuffer"}
_TENSOR_FACTORIES = re.compile(
    r"^torch\.(tensor|zeros|ones|empty|randn|rand|randint|full|arange|linspace|eye|stack|cat)(_like)?$"
)
_NOT_A_MODEL = re.compile(r"Tokenizer|Processor|Config|FeatureExtractor|Extractor|Pipeline|Scheduler|Generation")
_PRETRAINED_MODEL = re.compile(r"Model|For[A-Z]|Autoencoder|UNet|VAE|ControlNet|Transformer|Encoder|Decoder|Prior")
# attribute names that are parameters or buffers far more often than submodules
_PARAMETER_NAME = re.compile(
    r"(^|_)(weight|weights|bias|embed|embeds|embedding|token|tokens|param|params|parameter|parameters|scale|"
    r"temperature|alpha|beta|gamma|logit|logits|query|queries|mask|prompt|prompts|pos|position|cls|proj|"
    r"projection|running_mean|running_var|buffer|data|grad)s?$",
    re.IGNORECASE,
)
_MODULE_RETURNING = {"to", "cuda", "cpu", "half", "float", "double", "bfloat16", "eval", "train", "requires_grad_", "type"}
_MODULE_ITERATORS = {"modules", "children", "named_modules", "named_children"}
# (every class torchvision.models exports, ResNet to VisionTransformer, is an nn.Module)
_MODULE_BASES = re.compile(r"(^|\.)(Module|LightningModule|PreTrainedModel|ModelMixin)$|^torchvision\.models\.(\w+\.)*[A-Z]\w*$")


class ModuleKinds:
    """Module/tensor knowledge of one parsed file."""

    def __init__(self, tree: ast.Module, names: Names) -> None:
        self.tree = tree
        self.names = names
        self.classes: dict[str, ast.ClassDef] = {
            node.name: node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
        }
        self.module_classes = self._module_classes()
        self.enclosing: dict[ast.AST, tuple[Optional[FunctionNode], Optional[ast.ClassDef]]] = {}
        self._index(tree, None, None)
        self._class_attrs: dict[str, dict[str, Optional[str]]] = {}
        self._frame_names: dict[Optional[ast.AST], dict[str, Optional[str]]] = {}

    # -- classes -------------------------------------------------------------
    def _module_classes(self) -> set[str]:
        found: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, node in self.classes.items():
                if name in found:
                    continue
                for base in node.bases:
                    qualified = self.names.qualify(base) or ""
                    if _MODULE_BASES.search(qualified) or qualified.rsplit(".", 1)[-1] in found:
                        found.add(name)
                        changed = True
                        break
        return found

    def _index(self, root: ast.AST, function: Optional[FunctionNode], cls: Optional[ast.ClassDef]) -> None:
        """Record, for every node, the function and class it sits in (iteratively: no depth limit)."""
        stack: list[tuple[ast.AST, Optional[FunctionNode], Optional[ast.ClassDef]]] = [(root, function, cls)]
        while stack:
            node, function, cls = stack.pop()
            for child in ast.iter_child_nodes(node):
                self.enclosing[child] = (function, cls)
                if isinstance(child, _FUNCTIONS):
                    stack.append((child, child, cls))
                elif isinstance(child, ast.ClassDef):
                    stack.append((child, None, child))
                else:
                    stack.append((child, function, cls))

    def frame_of(self, node: ast.AST) -> Optional[FunctionNode]:
        return self.enclosing.get(node, (None, None))[0]

    def class_of(self, node: ast.AST) -> Optional[ast.ClassDef]:
        return self.enclosing.get(node, (None, None))[1]

    def class_attrs(self, cls: ast.ClassDef) -> dict[str, Optional[str]]:
        """``x`` -> kind for each ``self.x = ...`` of the class (None where it varies)."""
        if cls.name not in self._class_attrs:
            kinds: dict[str, Optional[str]] = {}
            self._class_attrs[cls.name] = kinds  # guards recursion through self.x = self.y
            for node in ast.walk(cls):
                for target, value in _assignments(node):
                    name = dotted(target)
                    if name and name.startswith("self.") and name.count(".") == 1:
                        kind = self.kind(value, node)
                        attr = name[5:]
                        kinds[attr] = kind if kinds.get(attr, kind) == kind else None
        return self._class_attrs[cls.name]

    # -- names of a frame ------------------------------------------------------
    def frame_names(self, frame: Optional[FunctionNode]) -> dict[str, Optional[str]]:
        """Name -> kind for the plain names a function (None: the module) binds."""
        if frame not in self._frame_names:
            kinds: dict[str, Optional[str]] = {}
            self._frame_names[frame] = kinds
            scope: ast.AST = frame if frame is not None else self.tree
            if frame is not None:
                for arg in frame.args.args + frame.args.kwonlyargs:
                    if arg.annotation is not None and (self.names.qualify(arg.annotation) or "").endswith("nn.Module"):
                        kinds[arg.arg] = MODULE
            for node in frame_nodes(scope):
                for target, value in _assignments(node):
                    if isinstance(target, ast.Name):
                        kind = self.kind(value, node)
                        kinds[target.id] = kind if kinds.get(target.id, kind) == kind else None
                if isinstance(node, (ast.For, ast.AsyncFor)):
                    for name, kind in self._loop_targets(node):
                        kinds[name] = kind if kinds.get(name, kind) == kind else None
        return self._frame_names[frame]

    def _loop_targets(self, loop: Union[ast.For, ast.AsyncFor]) -> Iterator[tuple[str, Optional[str]]]:
        """``m`` in ``for m in model.modules()``, ``for _, m in model.named_children()``,
        ``for block in self.blocks`` (a ModuleList)."""
        iterator = loop.iter
        kind: Optional[str] = None
        named = False
        while True:  # list(model.children())[:-1], reversed(self.blocks)
            if isinstance(iterator, ast.Subscript) and isinstance(iterator.slice, ast.Slice):
                iterator = iterator.value
            elif isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Name) and iterator.func.id in ("list", "tuple", "reversed") and len(iterator.args) == 1:
                iterator = iterator.args[0]
            else:
                break
        if isinstance(iterator, ast.Call) and isinstance(iterator.func, ast.Attribute):
            if iterator.func.attr in _MODULE_ITERATORS:
                kind, named = MODULE, iterator.func.attr.startswith("named_")
            elif iterator.func.attr in ("parameters", "named_parameters", "buffers", "named_buffers"):
                kind, named = TENSOR, iterator.func.attr.startswith("named_")
        elif self.kind(iterator, loop) == MODULE and not isinstance(iterator, ast.Call):
            kind = MODULE
        target = loop.target
        if named and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            target = target.elts[1]
        if isinstance(target, ast.Name) and kind is not None:
            yield target.id, kind

    # -- expressions -------------------------------------------------------------
    def kind(self, expr: ast.AST, at: ast.AST) -> Optional[str]:
        """MODULE, TENSOR or None for ``expr`` as evaluated where ``at`` sits."""
        if isinstance(expr, ast.Call):
            return self._call_kind(expr, at)
        if isinstance(expr, ast.Name):
            if expr.id == "self":
                cls = self.class_of(at)
                return MODULE if cls is not None and cls.name in self.module_classes and self.frame_of(at) else None
            frame = self.frame_of(at)
            local = self.frame_names(frame)
            if expr.id in local:
                return local[expr.id]
            return self.frame_names(None).get(expr.id) if frame is not None else None
        if isinstance(expr, ast.Attribute):
            return self._attribute_kind(expr, at)
        if isinstance(expr, ast.Subscript):
            # an item of a ModuleList/Sequential is a module, of a ParameterList a tensor
            container = self.kind(expr.value, at)
            if isinstance(expr.slice, ast.Slice):
                return None
            return {MODULE: MODULE, PARAMETERS: TENSOR}.get(container or "")
        return None

    def _attribute_kind(self, expr: ast.Attribute, at: ast.AST) -> Optional[str]:
        if expr.attr in ("weight", "bias") or expr.attr.endswith(("_weight", "_bias")):
            return TENSOR
        if isinstance(expr.value, ast.Name) and expr.value.id == "self":
            cls = self.class_of(at)
            if cls is not None and self.frame_of(at) is not None:
                return self.class_attrs(cls).get(expr.attr)
            return None
        owner = self._instance_class(expr.value, at)
        if owner is not None:
            return self.class_attrs(owner).get(expr.attr)
        if self.kind(expr.value, at) == MODULE and self._is_foreign_model(expr.value, at):
            return None if _PARAMETER_NAME.search(expr.attr) else MODULE
        return None

    def _instance_class(self, expr: ast.AST, at: ast.AST) -> Optional[ast.ClassDef]:
        """The local module class ``expr`` is an instance of, when a plain name bound from its constructor."""
        if not isinstance(expr, ast.Name):
            return None
        frame = self.frame_of(at)
        for scope in ([frame] if frame is not None else []) + [None]:
            node = frame if scope is not None else self.tree
            for stmt in frame_nodes(node):  # type: ignore[arg-type]
                for target, value in _assignments(stmt):
                    if isinstance(target, ast.Name) and target.id == expr.id and isinstance(value, ast.Call):
                        callee = (dotted(value.func) or "").rsplit(".", 1)[-1]
                        if callee in self.module_classes:
                            return self.classes[callee]
        return None

    def _is_foreign_model(self, expr: ast.AST, at: ast.AST) -> bool:
        """A module whose structure this file does not define: a pretrained or library model."""
        root: ast.AST = expr
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        return self._instance_class(root, at) is None and not (isinstance(root, ast.Name) and root.id == "self")

    def _call_kind(self, call: ast.Call, at: ast.AST) -> Optional[str]:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _MODULE_RETURNING:
            inner = self.kind(func.value, at)
            return inner if inner == MODULE else None
        callee = self.names.qualify(func) or ""
        return constructor_kind(callee, self.module_classes)


def constructor_kind(callee: str, module_classes: set[str]) -> Optional[str]:
    """What a call of ``callee`` (qualified) builds: MODULE, TENSOR or None."""
    last = callee.rsplit(".", 1)[-1]
    if callee.endswith(".from_pretrained"):
        owner = callee[: -len(".from_pretrained")]
        root, cls = owner.split(".", 1)[0], owner.rsplit(".", 1)[-1]
        if _NOT_A_MODEL.search(cls):
            return None
        if cls in module_classes or (root in ("transformers", "diffusers") and _PRETRAINED_MODEL.search(cls)):
            return MODULE
        return None
    if callee.startswith("torch.nn.") and last[:1].isupper():
        if callee.startswith("torch.nn.functional.") or callee.startswith("torch.nn.init."):
            return None
        if last in ("ParameterList", "ParameterDict"):
            return PARAMETERS
        return TENSOR if last in _TENSOR_CLASSES else MODULE
    if _TENSOR_FACTORIES.match(callee):
        return TENSOR
    if callee.startswith("torchvision.models.") and last[:1].islower() and not last.startswith("get_"):
        return MODULE
    if callee in ("timm.create_model", "timm.models.create_model"):
        return MODULE
    if last in module_classes and "." not in callee:
        return MODULE
    return None


def pretrained_model_call(callee: str, module_classes: set[str]) -> bool:
    """``AutoModelForX.from_pretrained`` of transformers/diffusers: a model returned in eval mode."""
    if not callee.endswith(".from_pretrained"):
        return False
    root = callee.split(".", 1)[0]
    return root in ("transformers", "diffusers") and constructor_kind(callee, module_classes) == MODULE


def frame_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function (or module) body in source order, not entering nested functions or classes."""
    stack = list(reversed(list(ast.iter_child_nodes(scope))))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _FUNCTIONS + (ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _assignments(node: ast.AST) -> Iterator[tuple[ast.expr, ast.expr]]:
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, (ast.Tuple, ast.List)) and isinstance(node.value, (ast.Tuple, ast.List)):
                yield from zip(target.elts, node.value.elts)
            else:
                yield target, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        yield node.target, node.value
