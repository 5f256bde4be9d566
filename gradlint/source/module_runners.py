"""GL406: functions that only run a module they are handed.

A frozen feature extractor is often built in a script and handed to a helper that runs it
over the data (``feats = extract(backbone, loader)``, or a method chain
``self.train_one_epoch(backbone=backbone)`` -> ``self.step(batch, backbone)`` ->
``backbone(x)``). Such a helper neither puts the module in eval mode nor keeps it: what it
does to the module is to run it, in whatever mode it came in. :func:`runs_parameter`
says where a function runs the parameter a call hands it, when that is all it does."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Optional

from gradlint.source.frames import FileFrames
from gradlint.source.names import dotted

# what may be done with a module without changing or hiding its mode
PLAIN_USES = {"to", "cuda", "cpu", "parameters", "named_parameters", "requires_grad_", "state_dict",
              "load_state_dict", "float", "half", "double", "children", "named_children", "modules",
              "named_modules", "named_buffers", "buffers", "zero_grad"}
LOOKS = {"print", "len", "str", "repr", "type", "id", "isinstance", "summary",
         # exported or saved as it is: its mode is not changed
         "torch.jit.script", "torch.jit.trace", "torch.save", "torch.onnx.export", "pickle.dump", "pickle.dumps",
         "joblib.dump", "dill.dump", "wandb.watch"}
_DEPTH = 3  # helpers calling helpers: a few levels at most


@dataclass(frozen=True)
class Scope:
    """What a bare or ``self.`` call inside a function can reach: the module's functions
    and the methods of the function's class."""

    functions: dict[str, ast.FunctionDef]
    methods: dict[str, ast.FunctionDef]

    @staticmethod
    def of(tree: ast.Module, cls: Optional[ast.ClassDef]) -> "Scope":
        functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        methods = {node.name: node for node in cls.body if isinstance(node, ast.FunctionDef)} if cls else {}
        return Scope(functions, methods)

    def callee(self, call: ast.Call) -> Optional[tuple[ast.FunctionDef, bool]]:
        """The function ``call`` calls, and whether it is bound (``self.m``: no ``self`` passed)."""
        name = dotted(call.func) or ""
        if name.startswith("self.") and name.count(".") == 1 and name[5:] in self.methods:
            return self.methods[name[5:]], True
        if name in self.functions:
            return self.functions[name], False
        return None


def parameter_of(call: ast.Call, node: ast.expr, function: ast.FunctionDef, bound: bool) -> Optional[str]:
    """The parameter of ``function`` that ``node``, an argument of ``call``, binds."""
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    if bound:
        params = params[1:]
    for index, argument in enumerate(call.args):
        if argument is node:
            return params[index] if index < len(params) else None
    for keyword in call.keywords:
        if keyword.value is node and keyword.arg is not None:
            known = params + [a.arg for a in function.args.kwonlyargs]
            return keyword.arg if keyword.arg in known else None
    return None


def runs_parameter(function: ast.FunctionDef, parameter: str, scope: Scope, depth: int = 0) -> Optional[int]:
    """The first line where ``function`` runs ``parameter`` (``parameter(x)``, itself or in a
    helper it hands it to) when it does nothing else with it that could change or hide its
    mode (``.eval()``, keeping it, handing it to an unknown function); else None."""
    if depth > _DEPTH:
        return None
    parents = {child: parent for parent in ast.walk(function) for child in ast.iter_child_nodes(parent)}
    runs: list[int] = []
    for node in ast.walk(function):
        if not (isinstance(node, ast.Name) and node.id == parameter):
            continue
        if not isinstance(node.ctx, ast.Load):
            return None  # bound to something else in between
        parent = parents.get(node)
        if isinstance(parent, ast.Call) and parent.func is node:
            runs.append(parent.lineno)
        elif isinstance(parent, ast.Attribute):
            grandparent = parents.get(parent)
            if isinstance(grandparent, ast.Call) and grandparent.func is parent and parent.attr not in PLAIN_USES:
                return None  # backbone.eval(), backbone.head(x): not only run
        elif isinstance(parent, (ast.If, ast.While, ast.IfExp)) and parent.test is node or isinstance(
                parent, (ast.BoolOp, ast.UnaryOp, ast.Compare)):
            continue  # ``if backbone:``, ``backbone is not None``
        elif isinstance(parent, ast.Return) and not _optimises(function, parameter):
            continue  # ``return model`` once the epochs have run it: the caller's from there on
        elif (call := _call_handed(node, parent, parents)) is not None:
            if dotted(call.func) in LOOKS:
                continue
            line = handed_on(call, node, scope, depth)
            if line is None:
                return None
            runs.append(line)
        else:
            return None  # kept, returned, put in a list: what happens to it is not known here
    return min(runs) if runs else None


def _optimises(function: ast.FunctionDef, parameter: str) -> bool:
    """``function`` builds an optimiser over ``parameter``'s parameters (``SGD(model.parameters())``):
    it trains the model it returns, not only runs it."""
    return any(isinstance(call, ast.Call) and any(
        isinstance(sub, ast.Attribute) and sub.attr in ("parameters", "named_parameters") and isinstance(sub.value, ast.Name)
        and sub.value.id == parameter for arg in [*call.args, *(k.value for k in call.keywords)] for sub in ast.walk(arg))
        and "optim" in (dotted(call.func) or "").lower() for call in ast.walk(function))


def _call_handed(node: ast.expr, parent: Optional[ast.AST], parents: dict) -> Optional[ast.Call]:
    """The call ``node`` is an argument of (``f(node)``, ``f(x=node)``)."""
    if isinstance(parent, ast.keyword):
        parent = parents.get(parent)
        return parent if isinstance(parent, ast.Call) else None
    return parent if isinstance(parent, ast.Call) and node in parent.args else None


def handed_on(call: ast.Call, node: ast.expr, scope: Scope, depth: int = 0) -> Optional[int]:
    """Where the function ``call`` calls runs ``node``, the argument it is handed, when that
    function is in ``scope`` and only runs it."""
    found = scope.callee(call)
    if found is None:
        return None
    function, bound = found
    parameter = parameter_of(call, node, function, bound)
    return runs_parameter(function, parameter, scope, depth + 1) if parameter else None


# a class that subclasses one of these switches its submodules' modes with its own
_MODULE_BASES = ("Module", "LightningModule")


# ``Experiment`` handing what it keeps to ``SourceTrainer(self.encoder, ...)``: where the class
# built there runs it and whether that class trains (steps an optimiser), or None
Handed = Callable[[ast.Call, ast.expr], Optional[tuple[int, bool]]]


def class_runs_parameter(cls: ast.ClassDef, parameter: str, handed: Optional[Handed] = None) -> Optional[int]:
    """The first line where a training class (``Trainer(encoder, decoder, loader)`` whose
    methods step an optimiser) runs what its ``__init__`` keeps from ``parameter``
    (``self.encoder = encoder.to(device)`` ... ``self.encoder(images)``), when no method does
    anything else with it that could change its mode; else None. A module subclass is not
    such a runner: its own ``train()`` reaches what it holds. With ``handed``, a class that
    hands what it keeps to other classes which only run it (``SourceTrainer(self.encoder,
    ...).train()``, one of them training) is a runner too."""
    found = class_runs_and_trains(cls, parameter, handed)
    return found[0] if found is not None and found[1] else None


def class_runs_and_trains(cls: ast.ClassDef, parameter: str, handed: Optional[Handed] = None
                          ) -> Optional[tuple[int, bool]]:
    """Where ``cls`` runs what it keeps from ``parameter`` (see :func:`class_runs_parameter`)
    and whether it trains: it, or a class it hands it to, steps an optimiser."""
    if any((dotted(base) or "").split(".")[-1] in _MODULE_BASES for base in cls.bases):
        return None
    init = init_of(cls)
    if init is None or parameter not in [a.arg for a in init.args.args[1:]]:
        return None
    kept = kept_as(init, parameter)
    if kept is None:
        return None
    trains = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "backward"
                 for n in ast.walk(cls))
    if not trains and handed is None:
        return None
    runs: list[int] = []
    for method in cls.body:
        if not isinstance(method, ast.FunctionDef):
            continue
        parents = {child: parent for parent in ast.walk(method) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(method):
            if dotted(node) != kept or not isinstance(node, ast.Attribute):
                continue
            parent = parents.get(node)
            if isinstance(parent, ast.Call) and parent.func is node:
                runs.append(parent.lineno)
            elif isinstance(parent, ast.Attribute) and isinstance(call := parents.get(parent), ast.Call) \
                    and call.func is parent and parent.attr in PLAIN_USES:
                continue
            elif isinstance(parent, ast.Assign) and method is init:
                continue  # the keeping itself
            elif isinstance(parent, ast.Call) and dotted(parent.func) in LOOKS:
                continue
            elif handed is not None and (call := _call_handed(node, parent, parents)) is not None \
                    and (run := handed(call, node)) is not None:
                runs.append(run[0])
                trains = trains or run[1]
            else:
                return None  # its mode set, handed on, kept elsewhere: not only run
        if method is not init and _calls_own_mode(method, cls):
            return None
    return (min(runs), trains) if runs else None


def init_of(cls: ast.ClassDef) -> Optional[ast.FunctionDef]:
    """The class's ``__init__``; for a ``@dataclass`` without one, the ``__init__`` its
    fields make (``model: Module``, ``loss: Module`` -> ``self.model = model`` ...)."""
    init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
    if init is not None or not any((dotted(d.func if isinstance(d, ast.Call) else d) or "").rpartition(".")[2]
                                   == "dataclass" for d in cls.decorator_list):
        return init
    fields = [node.target.id for node in cls.body if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
              and "ClassVar" not in ast.unparse(node.annotation)]
    body: list[ast.stmt] = [ast.Assign([ast.Attribute(ast.Name("self", ast.Load()), field, ast.Store())],
                                       ast.Name(field, ast.Load())) for field in fields]
    made = ast.FunctionDef("__init__", ast.arguments([], [ast.arg("self"), *(ast.arg(f) for f in fields)], None, [], [], None, []),
                           body or [ast.Pass()], [], None)
    return ast.fix_missing_locations(ast.copy_location(made, cls))


def kept_as(init: ast.FunctionDef, parameter: str) -> Optional[str]:
    """``self.encoder`` for ``self.encoder = encoder`` (or ``encoder.to(device)``) in ``init``."""
    for node in ast.walk(init):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute):
            value = node.value
            while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in (
                    "to", "cuda", "cpu", "float"):
                value = value.func.value
            target = dotted(node.targets[0]) or ""
            if isinstance(value, ast.Name) and value.id == parameter and target.startswith("self."):
                return target
    return None


def _calls_own_mode(method: ast.FunctionDef, cls: ast.ClassDef) -> bool:
    """``self.train()``/``self.eval()`` in ``method``, unless the class defines that method
    itself (a trainer's own ``eval(loader)``, read as one of its methods)."""
    own = {f.name for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return any(isinstance(n, ast.Call) and (called := dotted(n.func)) in ("self.train", "self.eval")
               and called[len("self."):] not in own for n in ast.walk(method))


_ATTRIBUTE_LOOKS = {"hasattr", "getattr", "setattr"}


_DRIVERS = frozenset({"train", "fit", "run"})  # a base trainer's public methods that run its subclass's steps


def never_asked_to_train(construction: ast.Call, entries: tuple[str, ...], frames: FileFrames) -> bool:
    """``trainer = Trainer(model, ...)`` whose every use reads or calls another attribute
    than the methods leading to the train call (``trainer.log_metrics(...)`` in a test of
    the logging): the model is never trained through it. Handed on, returned or called
    itself, it may be."""
    statement = frames._statement_of(construction)
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and statement.value is construction):
        return False
    name = statement.targets[0].id
    scope = frames.kinds.frame_of(construction) or frames.unit.tree
    assert scope is not None
    for use in ast.walk(scope):
        if not (isinstance(use, ast.Name) and use.id == name and isinstance(use.ctx, ast.Load)):
            continue
        parent = frames.parents.get(use)
        if isinstance(parent, ast.Call) and dotted(parent.func) in LOOKS | _ATTRIBUTE_LOOKS and use in parent.args:
            continue  # hasattr(trainer, "current_epoch")
        if not isinstance(parent, ast.Attribute) or parent.attr in entries:
            return False  # handed on, returned, called itself, or asked to train
        if parent.attr in _DRIVERS and all(entry.startswith("_") for entry in entries):
            return False  # trainer.train() of a base class running the subclass's _train_epoch (pytorch-template)
    return True
