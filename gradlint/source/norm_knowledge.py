"""Which names of a file hold a module with BatchNorm (GL406), read from ``ast`` only.

A ``torch.nn`` BatchNorm, a torchvision/timm model family built with BatchNorm (ResNet,
DenseNet, EfficientNet, MobileNet, RegNet, Inception, VGG-BN...), an ``nn.Sequential`` or a
module class of the file that builds one, an attribute of those (``resnet.layer4``,
``self.backbone`` assigned one, also through an ``__init__`` argument), a class or function
imported from a project module that builds one, and a function (of the file or imported)
that returns such a model. Anything else is unknown: ``False``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Optional

from gradlint.source.call_arguments import argument, handed_class
from gradlint.source.imported_parts import ImportedParts
from gradlint.source.appended_layers import appended_to
from gradlint.source.bn_builders import (HEAD_NAMES, PLAIN_STEM_PARTS, RESNET, TV_BN, builds_bn, hub_resnet, library_builds_bn,
                                         torchvision_bn)
from gradlint.source.chosen_names import chosen_string, picked_builder
from gradlint.source.frames import FileFrames
from gradlint.source.constructed_arms import passed_other_arm
from gradlint.source.table_calls import class_table, imported_table_pick, table_callees
from gradlint.source.head_reads import arms_crash_at, builder_bn_arms_crash
from gradlint.source.children_views import children_owner
from gradlint.source.picked_builds import handed_name_build, picked_build
from gradlint.source.model_factories import handed_back, plain_element, returned_build
from gradlint.source.project_functions import project_function
from gradlint.source.reaching_bindings import PARALLEL_WRAPPERS, arm_text, assignment_pairs, binding_root, reaching_choices
from gradlint.source.reaching_bindings import unwrap as unwrap  # read by the GL406 and GL215 readers from here
from gradlint.source.names import bound_names, dotted, name_expression


class NormKnowledge(ImportedParts):
    """Which dotted names of a file hold a module with BatchNorm."""

    def __init__(self, frames: FileFrames) -> None:
        self.frames = frames
        self.names = frames.names
        self.classes = frames.kinds.classes
        self.bindings: dict[str, list[ast.expr]] = {}  # every binding of the file (instances_of)
        # per function (None: the module): a local name is read in its own function only
        self.scoped: dict[Optional[ast.AST], dict[str, list[ast.expr]]] = {}
        tree = frames.unit.tree
        assert tree is not None
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                frame = frames.kinds.frame_of(node)
                for index, (target, value) in enumerate(assignment_pairs(targets, node.value)):
                    name = dotted(target)
                    if len(targets) == 1 and isinstance(targets[0], ast.Tuple) and isinstance(value, ast.Call) \
                            and plain_element(tree, value, index, len(targets[0].elts)):
                        continue  # ``create_net, config = select_net(name)``: ``config`` is a setting it returns
                    if name is not None:
                        self.bindings.setdefault(name, []).append(value)
                        self.scoped.setdefault(frame, {}).setdefault(name, []).append(value)
        self._scope: Optional[ast.AST] = None
        # (function, parameter, its string default) a BatchNorm answer took the default of:
        # a call passing another string may build another model
        self.defaults_read: set[tuple[ast.AST, str, str]] = set()
        self._busy: set[str] = set()  # classes being read (ClassAttributeValues)
        self._reading: set[tuple[str, int]] = set()  # (name, scope) being read: a parameter passed the same name
        self._arms: dict[int, dict[str, set[object]]] = {}  # per class: see constructed_arms
        self._bound_names: Optional[set[str]] = None  # every name the file binds, read once (_unbound)
        self._local: Optional[set[str]] = None
        self.bn_functions: set[str] = set()  # functions returning a model with BatchNorm (norm_links)
        self.imported_bn: set[str] = set()  # models with BatchNorm a project module builds and the file imports
        self.imported_tables: dict[str, dict[str, bool]] = {}  # imported dicts of models: key -> builds BatchNorm
        # ``net`` -> {"encoder"} for ``net = EvalNet(resnet18())``: the handed parts that hold its BatchNorm
        self.handed_bn: dict[str, set[str]] = {}
        self.eval_kept: set[str] = set()  # instances of project classes whose train() override keeps BN in eval
        self._assigned_in: dict[int, ast.AST] = {}  # a class attribute's value -> the method assigning it
        self._called: Optional[set[Optional[str]]] = None  # the names the file calls (read once)

    def local_bn_names(self) -> set[str]:
        """Names the file imports from project-local modules (next to it or a few folders up)
        that build a BatchNorm or a torchvision BatchNorm model; read lazily, never imported."""
        if self._local is None:
            from gradlint.source.recurrent import local_names_building

            tree = self.frames.unit.tree
            assert tree is not None
            path = Path(self.frames.unit.path)
            found = local_names_building(tree, path, builds_bn) if path.is_file() else {}
            self._local = {name for name in found if name not in self.classes}
        return self._local

    def has_batchnorm(self, name: str, cls: Optional[ast.ClassDef] = None, at: Optional[ast.AST] = None) -> bool:
        """``name`` as bound in the function holding ``at`` (else at module level)."""
        self._scope = self.frames.kinds.frame_of(at) if at is not None else None
        return self._name(name, cls, 0)

    def has_batchnorm_there(self, name: str, at: ast.AST) -> bool:
        """``name`` as last bound before ``at`` in its function (or by ``at``'s own line:
        ``model = FrozenNet()``): the branch a freeze is in built it there (``if m ==
        "vivit": model = Vivit() ... else: model = r3d_18()``). After an ``if``/``elif``
        chain that bound it in each arm, any arm building BatchNorm counts: that
        configuration of the code trains a frozen BatchNorm (see :meth:`bn_branch`)."""
        choices = reaching_choices(self.frames, name, at)
        if choices is None:
            return self.has_batchnorm(name, None, at)
        rest = name[len(binding_root(name)) + 1:]
        return any(self.value_has_batchnorm(value, rest, at) and not self._bn_arms_crash(node, value, name)
                   for node, value in choices)

    def _bn_arms_crash(self, binding: ast.Assign, value: ast.expr, name: str) -> bool:
        tree = self.frames.unit.tree
        assert tree is not None
        return arms_crash_at(self.frames.kinds.frame_of(binding) or tree, binding, value, name, self.names.qualify, tree)

    def bn_branch(self, name: str, at: ast.AST) -> Optional[str]:
        """Where ``name`` gets BatchNorm when only some arms of the chain before ``at``
        build it: ``when `args.arch == 'densenet121'` (line 22)``; None otherwise."""
        choices = reaching_choices(self.frames, name, at)
        rest = name[len(binding_root(name)) + 1:]
        if choices is not None and len(choices) == 1:
            return self._table_branch(choices[0][1], rest, at)
        if choices is None or len(choices) < 2:
            return None
        with_bn = [node for node, value in choices if self.value_has_batchnorm(value, rest, at)]
        if not with_bn or len(with_bn) == len(choices):
            return None
        return " or ".join(arm_text(self.frames.parents, node) for node in with_bn[:3])

    def _table_branch(self, value: ast.expr, rest: str, at: ast.AST) -> Optional[str]:
        """``for the 'vgg19_bn' entry of `arch_dict` (line 37)`` when ``value`` picks a model
        from a table by a key the file does not fix and only some entries hold BatchNorm."""
        value = unwrap(value)
        table = self._table(value.value) if isinstance(value, ast.Subscript) else None
        if table is None:
            return None
        self._scope = self.frames.kinds.frame_of(at)
        keyed = [(k, v) for k, v in zip(table.keys, table.values) if isinstance(k, ast.Constant)]
        with_bn = [(k, v) for k, v in keyed if self._value_path(v, [part for part in rest.split(".") if part], 0)]
        if not with_bn or len(with_bn) == len(keyed):
            return None
        assert isinstance(value, ast.Subscript)
        entries = " or ".join(repr(k.value) for k, _ in with_bn[:3])
        return f"for the {entries} entry of `{ast.unparse(value.value)}` (line {with_bn[0][1].lineno})"

    def value_has_batchnorm(self, value: ast.expr, rest: str, at: ast.AST) -> bool:
        """Whether ``value`` (bound in the function holding ``at``), or its part ``rest``
        (``.backbone``), holds BatchNorm."""
        self._scope = self.frames.kinds.frame_of(at)
        return self._value_path(value, [part for part in rest.split(".") if part], 0)

    def _bound(self, name: str) -> Optional[list[ast.expr]]:
        local = self.scoped.get(self._scope, {}).get(name) if self._scope is not None else None
        if local is None and self._passes_it(name):
            return None  # a module-level function's parameter is what its callers pass (:meth:`_passed_for`)
        return local or self.scoped.get(None, {}).get(name)

    def _passes_it(self, name: str) -> bool:
        scope, tree = self._scope, self.frames.unit.tree
        if not isinstance(scope, ast.FunctionDef) or tree is None or not any(a.arg == name for a in scope.args.args):
            return False
        if self._called is None:
            self._called = {dotted(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        return scope.name in self._called and scope in tree.body

    def _name(self, name: str, cls: Optional[ast.ClassDef], depth: int) -> bool:
        busy = (name, id(self._scope))
        if depth > 12 or busy in self._reading:  # a Sequential of a sliced children list is ~8 steps deep
            return False
        self._reading.add(busy)
        try:
            if cls is not None and name.startswith("self."):
                attr = name.split(".")[1]
                if (layer := re.fullmatch(r"(\w+)\[(\d+)\]", attr)) is not None:  # self.model[4] of a Sequential
                    return self._path(self._element(self._class_attr_values(cls, layer[1]), int(layer[2])),
                                      name.split(".")[2:], depth)
                return self._path(self._class_attr_values(cls, attr), name.split(".")[2:], depth)
            parts = name.split(".")
            if (layer := re.fullmatch(r"(\w+)\[(\d+)\]", parts[0])) is not None:  # model[0] of nn.Sequential(A(), B())
                if self._path(self._element(self._bound(layer[1]) or [], int(layer[2])), parts[1:], depth):
                    return True
                # (``model = holder`` of ``holder = nn.Sequential(frozen_net, head)``: known from the holder's part)
                return parts[0] in self.imported_bn and (len(parts) == 1 or parts[1] not in HEAD_NAMES)
            for cut in range(len(parts), 0, -1):
                values = self._bound(".".join(parts[:cut]))
                if values:
                    return self._path(values, parts[cut:], depth)
                if ".".join(parts[:cut]) in self.imported_bn:  # built in the module it is imported from
                    return cut == len(parts) or parts[cut] not in HEAD_NAMES
            return self._path(self._passed_for(parts[0]), parts[1:], depth)
        finally:
            self._reading.discard(busy)

    def _path(self, values: list[ast.expr], rest: list[str], depth: int) -> bool:
        return any(self._scoped_value_path(value, rest, depth) for value in values)

    def _scoped_value_path(self, value: ast.expr, rest: list[str], depth: int) -> bool:
        """A class attribute's value is read in the method that assigns it (``modules`` in
        ``self.trunk = nn.Sequential(*modules)`` is a local of ``__init__``)."""
        method = self._assigned_in.get(id(value))
        if method is None:
            return self._value_path(value, rest, depth)
        scope, self._scope = self._scope, method
        try:
            return self._value_path(value, rest, depth)
        finally:
            self._scope = scope

    def _value_path(self, value: ast.expr, rest: list[str], depth: int) -> bool:
        value = unwrap(value)
        if isinstance(value, ast.IfExp):  # resnet18() if depth == 18 else resnet34(): either configuration
            return any(self._value_path(arm, rest, depth + 1) for arm in (value.body, value.orelse))
        if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Slice) and not rest:
            # model.features[:10], list(m.children())[:-1]
            return self._value_path(value.value, [], depth + 1)
        if (isinstance(value, ast.Subscript) and not rest and (listed := children_owner(value.value)) is not None
                and isinstance(value.slice, ast.Constant) and isinstance(value.slice.value, int)):
            # list(vgg.children())[0]: a stage of a BatchNorm model (a ResNet's first child is its stem convolution)
            built = [dotted(call.func) or "" for v in self._bound(dotted(listed) or "") or []
                     if isinstance(call := unwrap(v), ast.Call)]
            return not (value.slice.value == 0 and any("resne" in b for b in built)) and self._value_path(listed, [], depth + 1)
        if isinstance(value, ast.Subscript) and (table := self._table(value.value)) is not None:
            # archs = {"densenet201": models.densenet201(), ...}; model = archs[args.arch]
            tree = self.frames.unit.tree
            assert tree is not None
            key = chosen_string(value.slice, self._scope, tree)
            entries = [v for k, v in zip(table.keys, table.values)
                       if key is None or isinstance(k, ast.Constant) and k.value == key]
            # a key the file does not fix: each entry is a configuration the command line offers
            pick = all if key is not None else any
            return bool(entries) and pick(self._value_path(v, rest, depth + 1) for v in entries)
        if (isinstance(value, ast.Call) and not rest and (
                isinstance(value.func, ast.Name) and value.func.id in ("list", "tuple") and len(value.args) == 1
                or isinstance(value.func, ast.Attribute) and value.func.attr in ("children", "modules"))):
            # list(resnet.children()): the layers of a model with BatchNorm hold it
            return self._value_path(value.args[0] if isinstance(value.func, ast.Name) else value.func.value, [], depth + 1)
        if isinstance(value, ast.Dict) and not rest:  # {"a": resnet50(), "b": vit()}: a ModuleDict's modules
            return any(self._value_path(v, [], depth + 1) for v in value.values)
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Call):  # Model().encoder
            return self._value_path(value.value, [value.attr, *rest], depth + 1)
        if isinstance(value, ast.Name) or isinstance(value, ast.Attribute):
            name = dotted(value)
            return bool(name) and self._name(".".join([str(name), *rest]), None, depth + 1)
        if not isinstance(value, ast.Call):
            return False
        tabled = table_callees(value, self.frames.parents, self._scope, self.frames.unit.tree) \
            if isinstance(value.func, (ast.Subscript, ast.Name)) and self.frames.unit.tree is not None else []
        if (picked_entry := imported_table_pick(self.imported_tables, value, self._scope, self.frames.unit.tree)
                if self.imported_tables and self.frames.unit.tree is not None else None) is not None:
            return picked_entry and (not rest or rest[0] not in HEAD_NAMES)  # model_dict[opt.model]() of an imported dict
        if not tabled and isinstance(value.func, ast.Subscript) and (
                builders := class_table(value.func.value, self.frames.kinds.class_of(value))):
            tabled = builders  # self.resnets[resnet_version](pretrained=True), ``resnets = {18: models.resnet18, ...}``
        if tabled:  # model_map[args.model](n), or model_ref(...) unpacked from a table: the classes the key may pick
            return any(self._value_path(ast.copy_location(ast.Call(name_expression(name), value.args, value.keywords), value),
                                        rest, depth + 1) for name in tabled)
        if isinstance(value.func, ast.Attribute) and value.func.attr == "load_from_checkpoint":
            # Encoder.load_from_checkpoint(path): a Lightning class method building an Encoder
            return self._value_path(ast.copy_location(ast.Call(value.func.value, [], []), value), rest, depth + 1)
        if self.frames.unit.tree is not None and (
                handed := handed_class(value, self.frames.kinds.frame_of(value), self.frames.unit.tree)) is not None:
            # model = model_class(n) in ``def train(model_class)``, called as ``train(VQAModel)``
            return self._value_path(ast.copy_location(ast.Call(handed, value.args, value.keywords), value), rest, depth + 1)
        callee = self._aliased(value.func) or self.names.qualify(value.func) or ""
        short = callee.rsplit(".", 1)[-1]
        if callee in ("copy.deepcopy", "deepcopy") and len(value.args) == 1:  # a copy holds what the original does
            copied = value.args[0]
            owner = self.frames.kinds.class_of(value) if isinstance(copied, ast.Name) and copied.id == "self" else None
            if owner is not None and not rest:  # prev_model = copy.deepcopy(self): the class's own model
                return self.class_has_batchnorm(owner)
            return self._value_path(copied, rest, depth + 1)
        if short in PARALLEL_WRAPPERS and value.args:  # DataParallel(model).module is the model
            if not rest:
                return self._value_path(value.args[0], [], depth + 1)
            # (``model_train.backbone`` for ``model_train = DataParallel(model)``: the name GL406 gives the
            # wrapped model's part, see held_parts)
            return self._value_path(value.args[0], rest[1:] if rest[0] == "module" else rest, depth + 1)
        tree = self.frames.unit.tree
        assert tree is not None
        picked = picked_builder(value, self._scope, tree, self.names.qualify, self._string)
        if picked is not None:  # getattr(models, args.arch)(...) with a known --arch default
            # (or another library's: ``pretrainedmodels.__dict__["se_resnext50_32x4d"]``)
            return (not rest or rest[0] not in HEAD_NAMES) and bool(
                TV_BN.match(picked) or library_builds_bn(picked, value, self._string))
        chosen = picked_build(value, self._scope, tree, self.frames.unit.path, torchvision_bn)
        if chosen is None:  # load(ckpt, args.arch) building ``getattr(torchvision.models, arch)()``
            chosen = handed_name_build(value, self._scope, tree, self.frames.unit.path, torchvision_bn)
        if chosen is not None:  # build_model(arch) with --arch defaulting to vgg19: the branch it takes
            return chosen and (not rest or rest[0] not in HEAD_NAMES)
        if (dotted(value.func) or "") in self.local_bn_names() | self.bn_functions:
            if short not in self.classes and (made := returned_build(value, tree, Path(self.frames.unit.path))) is not None:
                return self._value_path(made, rest, depth + 1)  # build_backbone("vit_small_patch16_224"): not its default
            if (found := project_function(dotted(value.func) or "", tree, Path(self.frames.unit.path))) is not None \
                    and builder_bn_arms_crash(found[0], found[1]):
                return False  # only its BatchNorm architectures, which fail before training
            handed = self._handed_back(value)
            if handed is not None:  # model = layer_modification(model): the same model, given a new head
                return self._value_path(handed, rest, depth + 1)
            if rest and (part := self._imported_part(value, rest[0])) is not None:
                return part  # ``model.text`` of a multimodal model: read where the class keeps it
            if self._built_in_other_arms(value):
                return False  # FeatureLoss(27, "vgg19"): its vgg16_bn arm is not built
            # a project class of another file that builds BatchNorm: its parts are taken to hold it
            # too, except a classifier head
            return not rest or rest[0] not in HEAD_NAMES
        if isinstance(value.func, ast.Name) and short not in self.classes and (handed := self._handed_back(value)) is not None:
            # model = freeze_features(build(n)): a project helper that hands back the model it gets
            return self._value_path(handed, rest, depth + 1)
        if short in self.classes and short in self.frames.kinds.module_classes:
            cls = self.classes[short]
            if not rest:
                return self._class_has_bn(cls, value, depth)
            values = self._class_attr_values(cls, rest[0], value)
            return self._path(values, rest[1:], depth + 1)
        if rest and (kept := self._kept_argument(value, callee, rest[0])) is not None:
            # Encoder(resnet) of another file keeping ``self.cnn = nn.Sequential(*list(resnet.children())[:-2])``
            return self._value_path(kept[0], [*kept[1], *rest[1:]], depth + 1)
        if not rest and any(self._value_path(passed, path, depth + 1) for passed, path in self._kept_arguments(value, callee)):
            return True  # VGG_loss(vgg) of another file keeping ``self.features = nn.Sequential(*list(model.children())...)``
        if rest and rest[0] in HEAD_NAMES:
            return False
        if (callee.count(".") == 0 or callee.startswith("models.")) and self._unbound(callee.split(".")[0]) \
                and TV_BN.match(f"torchvision.models.{callee.removeprefix('models.')}"):
            return True  # a notebook's cells split into files: ``efficientnet_b0`` (or ``models``) imported in another cell
        library = library_builds_bn(callee, value, self._string)
        if library and rest and rest[0] in PLAIN_STEM_PARTS and (RESNET.search(callee) or hub_resnet(
                callee, value, self._string)):
            return False  # a torchvision ResNet's stem convolution, ReLU and pooling hold no BatchNorm
        if library is not None:
            return library
        if short not in self.classes and (made := returned_build(value, tree, Path(self.frames.unit.path))) is not None:
            return self._value_path(made, rest, depth + 1)  # build_efficientnet("efficientnet_b0"): its timm model
        if callee in ("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict") and not rest:
            args = [arg.value if isinstance(arg, ast.Starred) else arg for arg in value.args]
            if len(args) == 1 and isinstance(args[0], ast.Name):  # nn.ModuleList(blocks), blocks.append(...) before
                args += appended_to(self.frames.kinds.frame_of(value) or tree, args[0].id)
            return any(self._value_path(arg, [], depth + 1) for arg in args)
        return False

    def _handed_back(self, call: ast.Call) -> Optional[ast.expr]:
        tree = self.frames.unit.tree
        return handed_back(call, tree, Path(self.frames.unit.path)) if tree is not None else None

    def _passed_for(self, name: str) -> list[ast.expr]:
        """``encoder``, a parameter of the module-level function being read: what each call of
        that function in the file passes for it (``run_experiment(resnet_encoder(), ...)``)."""
        scope, tree = self._scope, self.frames.unit.tree
        if not isinstance(scope, ast.FunctionDef) or tree is None or scope not in tree.body:
            return []
        params = [a.arg for a in scope.args.args]
        if name not in params:
            return []
        found = [(arg, node) for node in ast.walk(tree) if isinstance(node, ast.Call) and dotted(node.func) == scope.name
                 for arg in [argument(node, params.index(name), name)] if arg is not None]
        for arg, call in found:  # read where it is passed
            self._assigned_in.setdefault(id(arg), self.frames.kinds.frame_of(call) or tree)
        return [arg for arg, _ in found]

    def _aliased(self, func: ast.expr) -> str:
        """The builder a local name is bound to once (``vgg16bn_model = models.vgg16_bn``
        then ``vgg16bn_model(weights)``), qualified; else ``""``."""
        bound = self._bound(func.id) if isinstance(func, ast.Name) else None
        if bound and len(bound) == 1 and isinstance(bound[0], (ast.Name, ast.Attribute)):
            return self.names.qualify(bound[0]) or ""
        return ""

    def _unbound(self, name: str) -> bool:
        """The file never binds ``name`` (no import, def, class or assignment of it)."""
        tree = self.frames.unit.tree
        assert tree is not None
        if self._bound_names is None:
            self._bound_names = bound_names(tree)
        return name not in self._bound_names

    def _table(self, node: ast.expr) -> Optional[ast.Dict]:
        """The dict literal a name is bound to once (a table of models by name)."""
        if isinstance(node, ast.Dict):
            return node
        bound = self._bound(node.id) if isinstance(node, ast.Name) else None
        return bound[0] if bound and len(bound) == 1 and isinstance(bound[0], ast.Dict) else None

    def class_has_batchnorm(self, cls: ast.ClassDef) -> bool:
        """Whether a module class of the file builds BatchNorm (itself or in an attribute)."""
        self._scope = None
        return self._class_has_bn(cls, None, 0)

    def _class_has_bn(self, cls: ast.ClassDef, built: Optional[ast.Call], depth: int) -> bool:
        if any(builds_bn(self.names.qualify(base) or "") for base in cls.bases):  # class Net(models.ResNet)
            return True
        # class DBPCL(SimCLR): a base class of the file whose own layers hold BatchNorm
        if depth < 8 and any(isinstance(base, ast.Name) and (parent := self.classes.get(base.id)) is not None
                             and parent is not cls and self._class_has_bn(parent, None, depth + 1) for base in cls.bases):
            return True
        for node in ast.walk(cls):  # (not an ``if arch == "vgg16_bn":`` arm the construction passes by)
            if isinstance(node, ast.Call) and node is not built and not passed_other_arm(node, cls, built) \
                    and self._value_path(node, [], depth + 1):
                return True
        return any(self._path(self._class_attr_values(cls, attr, built), [], depth + 1)
                   for attr in self._self_attrs(cls))

