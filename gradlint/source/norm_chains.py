"""GL406 facts followed through functions that only pass a model on.

Real projects rarely freeze and train in the function the script calls: a name dispatch
(``define_model("DENSENET121_TRANS")``) returns what a freezing factory builds, and an
epoch loop (``validate_steps(model, ...)``) hands its model to the function that calls
``model.train()``. Given the freezing factories and training functions a module can call
(its own and those it imports, by the name it calls them), :func:`chain` finds the
module-level functions that return what one of them builds, or pass one of their
parameters to one, and repeats until nothing new turns up (a chain inside the module).
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Optional

from gradlint.source.call_flags import guard_at, guard_name, parameter_default
from gradlint.source.dead_branches import parameter_branch
from gradlint.source.factory_facts import (Choice, FreezingFactory, Guard, Known, KnownTrainers, Origin, TrainingFunction,
                                           folded, folded_factories)
from gradlint.source.freeze_forms import calls_eval, keeps_bn_in_eval
from gradlint.source.index import FileIndex
from gradlint.source.model_factories import returned_elements
from gradlint.source.held_locals import kept_as, local_aliases
from gradlint.source.names import dotted
from gradlint.source.call_arguments import argument
from gradlint.source.norm_knowledge import unwrap
from gradlint.source.project_classes import project_class
from gradlint.source.reaching_bindings import bound_value
from gradlint.source.table_calls import table_entries

_ROUNDS = 4  # functions of one module calling each other: a few levels at most


def chain(tree: ast.Module, path: str, factories: Known,
          trainers: KnownTrainers) -> tuple[list[FreezingFactory], list[TrainingFunction]]:
    """The module-level functions of ``tree`` (the file at ``path``) that pass on what a
    known factory builds (also its classes' methods) or hand a parameter to a known
    training function."""
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    # methods returning what a known factory builds: ``self.model = self.build()`` (``Trainer.build``)
    methods = {f"{cls.name}.{method.name}": method for cls in tree.body if isinstance(cls, ast.ClassDef)
               for method in cls.body if isinstance(method, ast.FunctionDef) and method.name != "__init__"}
    inits = {node.name: init for node in tree.body if isinstance(node, ast.ClassDef) and not keeps_bn_in_eval(node)
             for init in node.body if isinstance(init, ast.FunctionDef) and init.name == "__init__"}
    factories, trainers = dict(factories), dict(trainers)
    new_factories: list[FreezingFactory] = []
    new_trainers: list[TrainingFunction] = []
    for _ in range(_ROUNDS):
        grew = False
        for function in functions:
            if function.name not in factories:
                factory = _passed_on_factory(function, factories, tree, path)
                if factory is not None:
                    factories[function.name] = (factory, path)
                    new_factories.append(factory)
                    grew = True
            if function.name not in trainers:
                trainer = _passing_trainer(function, trainers)
                if trainer is not None:
                    trainers[function.name] = (trainer, path)
                    new_trainers.append(trainer)
                    grew = True
        for name, method in methods.items():
            if name not in factories and (factory := _passed_on_factory(method, factories, tree, path)) is not None:
                factory = replace(factory, function=name)
                factories[name] = (factory, path)
                new_factories.append(factory)
                grew = True
        for name, init in inits.items():
            if name not in factories:
                factory = _holding_class(name, init, factories, tree)
                if factory is not None:
                    factories[name] = (factory, path)
                    new_factories.append(factory)
                    grew = True
        if not grew:
            break
    return new_factories, new_trainers


def _holding_class(name: str, init: ast.FunctionDef, factories: Known, tree: ast.Module) -> Optional[FreezingFactory]:
    """``class Captioner(nn.Module): def __init__(self): self.encoder = FrozenEncoder()``: a
    class whose ``__init__`` keeps what a freezing class or factory builds freezes that part
    (one whose freeze a flag decides: where the call asks for it, or passes on one of
    ``__init__``'s own parameters, which then decides it where the class is built). Each
    attribute so kept is a frozen part (``self.video``, ``self.audio``)."""
    found: list[FreezingFactory] = []
    for node in ast.walk(init):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and (target := dotted(node.targets[0]) or "").startswith("self.") and target.count(".") == 1):
            continue
        built = unwrap(node.value)
        if not isinstance(built, ast.Call) or (callee := dotted(built.func)) not in factories:
            continue
        inner, inner_path = factories[callee]
        if inner.position is not None or inner.handed is not None:  # (a class freezing what it is handed: not followed)
            continue
        # (``if backbone_type == "mobilenet": self.encoder = MobileNetV3Backbone(...)``: only that name builds it)
        arm = _string_arm(init, built)
        for part in inner.each():
            asks, guard = _passed_guard(built, part, init, tree, offset=1)  # the call passes no self
            if asks:
                found.append(FreezingFactory(name, target[len("self"):] + part.rest, node.lineno, part.how, guard,
                                             part.origin or Origin(part.function, inner_path, part.line),
                                             puts_in_eval=part.puts_in_eval or calls_eval(init), partial=part.partial,
                                             choice=arm))
    return folded_factories(found)[0] if found else None


def _passed_on_factory(function: ast.FunctionDef, factories: Known, tree: ast.Module,
                       path: str = "") -> Optional[FreezingFactory]:
    """``def define_model(name): ... model = densenet121_trans() ... return model``: any
    branch returning the frozen model makes the function a factory of it (the branch is
    the caller's choice, as in a script)."""
    for node in ast.walk(function):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        for position, returned in returned_elements(node.value):
            factory = _factory_of(function, returned, position, node.lineno, factories, tree, path)
            if factory is not None:
                return factory
    return None


def _factory_of(function: ast.FunctionDef, value: ast.expr, position: Optional[int], line: int, factories: Known,
                tree: ast.Module, path: str) -> Optional[FreezingFactory]:
    """The factory ``function`` is when it returns ``value`` (at ``position`` of its tuple)."""
    values = _assigned(function, value.id) if isinstance(value, ast.Name) else [(value, line)]
    for built, at in values:
        built = unwrap(built)
        kept = ""
        choice: Optional[Choice] = None
        entries: list[tuple[str, str]] = []
        if isinstance(built, ast.Call) and (picked := _table_pick(function, built, factories, tree)) is not None:
            choice, entries = picked  # ``return model_mapping[model_name](weights)``: the keys naming a freezing class
            callee = entries[0][1]
        elif isinstance(built, ast.Call) and dotted(built.func) not in factories:
            # ``model = Captioner(encoder, decoder)`` with ``encoder = FrozenEncoder()``: its ``.encoder`` is frozen
            kept, built = _holder_of_frozen(function, built, factories, tree, path)
        if not isinstance(built, ast.Call) or choice is None and (callee := dotted(built.func) or "") not in factories:
            continue
        inner, inner_path = factories[callee]
        if inner.handed is not None or inner.choice is not None and _passes_other(built, inner.choice):
            continue  # (a class freezing what it is handed is read where it is built; get_model("convnet"))
        if kept:
            inner = replace(inner, rest=kept + inner.rest)
        if inner.position is not None:
            continue  # a tuple element of a tuple: not followed
        asks, guard = _passed_guard(built, inner, function, tree)
        if not asks:
            continue  # this call does not ask it to freeze (or may not)
        mode_choice = False
        if choice is None and inner.choice is not None and inner.mode_choice:
            choice = _passed_choice(function, built, inner.choice)  # build_model(..., train_mode) hands its own on
            mode_choice = choice is not None
        if choice is None and (arm := _string_arm(function, built)) is not None:
            choice = arm  # ``elif net_name == 'feature_loss': net = feature_loss()``: only that name builds it
        made = FreezingFactory(function.name, inner.rest, at, inner.how, guard,
                               inner.origin or Origin(inner.function, inner_path, inner.line), position,
                               inner.puts_in_eval or calls_eval(function), choice=choice, partial=inner.partial,
                               mode_choice=mode_choice)
        if entries:  # each key its own class's frozen part
            parts = [_picked_part(made, key, name, factories) for key, name in entries]
            made = replace(parts[0], also=tuple(parts[1:]))
        return made
    return None


def _string_arm(function: ast.FunctionDef, built: ast.Call) -> Optional[Choice]:
    """The choice of a string parameter ``built`` runs under (``if net_name == "x":``)."""
    parents = {child: parent for parent in ast.walk(function) for child in ast.iter_child_nodes(parent)}
    branch = parameter_branch(built, function, parents)
    if branch is None:
        return None
    index, _ = parameter_default(function, branch[0])
    if function.args.args and function.args.args[0].arg in ("self", "cls"):
        index -= 1  # (a method's call passes no self)
    return index, branch[0], frozenset({branch[1]})


def _passed_choice(function: ast.FunctionDef, built: ast.Call, inner: Choice) -> Optional[Choice]:
    """``inner``'s choice as ``function``'s own, when ``built`` passes it one of its parameters."""
    passed = argument(built, inner[0], inner[1])
    params = [a.arg for a in function.args.args]
    if not (isinstance(passed, ast.Name) and passed.id in params):
        return None
    index = params.index(passed.id) - (1 if params and params[0] in ("self", "cls") else 0)
    return index, passed.id, inner[2]


def _passes_other(call: ast.Call, choice: Choice) -> bool:
    """The call passes a string literal that picks none of ``choice``'s values."""
    passed = argument(call, choice[0], choice[1])
    return isinstance(passed, ast.Constant) and isinstance(passed.value, str) and passed.value not in choice[2]


def _picked_part(made: FreezingFactory, key: str, name: str, factories: Known) -> FreezingFactory:
    """``made`` for the class ``TABLE[key]`` names: its frozen part, its freeze, only that key."""
    inner, inner_path = factories[name]
    assert made.choice is not None
    return replace(made, rest=inner.rest, how=inner.how, choice=(made.choice[0], made.choice[1], frozenset({key})),
                   origin=inner.origin or Origin(inner.function, inner_path, inner.line))


def _table_pick(function: ast.FunctionDef, built: ast.Call, factories: Known,
                tree: ast.Module) -> Optional[tuple[Choice, list[tuple[str, str]]]]:
    """(the choice of keys picking a freezing class, each such key with its class) for
    ``return TABLE[name](...)`` with ``name`` a parameter of ``function`` (``get_model("resnet")``)."""
    found = table_entries(built, function, tree)
    if found is None or not isinstance(key := found[0], ast.Name):
        return None
    params = [a.arg for a in function.args.args]
    frozen = [(k, name) for k, name in found[1].items()
              if name in factories and factories[name][0].position is None and factories[name][0].handed is None]
    if key.id not in params or not frozen:
        return None
    return (params.index(key.id), key.id, frozenset(k for k, _ in frozen)), frozen


def _holder_of_frozen(function: ast.FunctionDef, built: ast.Call, factories: Known, tree: ast.Module,
                      path: str) -> tuple[str, ast.expr]:
    """(``.encoder``, the ``FrozenEncoder()`` call) when ``built`` constructs a class of the
    project (of the module at ``path`` or one it imports) whose ``__init__`` keeps an
    argument as ``self.encoder`` and that argument is a local of ``function`` bound once to
    a known factory's call; ("", ``built``) otherwise."""
    found = project_class(built.func, tree, Path(path), FileIndex(), entry=Path(path)) if path else None
    cls = found.node if found is not None else None
    init = next((item for item in cls.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"),
                None) if cls is not None and not keeps_bn_in_eval(cls) else None
    if init is None:
        return "", built
    params = [a.arg for a in init.args.args[1:]]
    passed = [(params[index], arg) for index, arg in enumerate(built.args) if index < len(params)]
    passed += [(k.arg, k.value) for k in built.keywords if k.arg in params]
    for parameter, arg in passed:
        values = _assigned(function, arg.id) if isinstance(arg, ast.Name) else []
        made = unwrap(values[0][0]) if len(values) == 1 else None
        attributes = kept_as(init, parameter)
        if isinstance(made, ast.Call) and dotted(made.func) in factories and len(attributes) == 1:
            return f".{attributes[0]}", made
    return "", built


def _passed_guard(built: ast.Call, inner: FreezingFactory, function: ast.FunctionDef, tree: ast.Module,
                  offset: int = 0) -> tuple[bool, Optional[Guard]]:
    """Whether ``built`` (a call of ``inner`` in ``function``) asks it to freeze, and the
    guard that passes on: None, or ``function``'s own parameter when the call hands that
    on (its caller decides; ``offset`` 1 when ``function`` is an ``__init__``, whose callers
    pass no self)."""
    if inner.guard is None:
        return True, None
    flag = guard_at(built, inner.guard, function, tree)
    if isinstance(flag, str):
        place, its_default = parameter_default(function, guard_name(flag)[0])
        return True, (place - offset, flag, bool(its_default.value) if isinstance(its_default, ast.Constant) else None)
    return flag is True, None


def _passing_trainer(function: ast.FunctionDef, trainers: KnownTrainers) -> Optional[TrainingFunction]:
    """``def validate_steps(epochs, loader, model, ...): train_with_steps(loader, model, ...)``:
    a parameter handed to a training function is put in train mode by it, whatever the
    function does after (the next call puts it back in train mode)."""
    params = [a.arg for a in function.args.args]
    aliases = local_aliases(function, {p: p for p in params})  # (``cmodel = torch.compile(model)``)
    found: list[TrainingFunction] = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or (callee := dotted(node.func)) not in trainers:
            continue
        known, inner_path = trainers[callee]
        for inner in known.each():
            passed = argument(node, inner.index, inner.parameter)
            name = dotted(unwrap(passed)) if passed is not None else None  # also train_step(model=model.to(device))
            root, dot, rest = (name or "").partition(".")
            root = aliases.get(root, root)
            if root in params and not rebound(function, root, 0, node.lineno):
                found.append(TrainingFunction(function.name, params.index(root), root, dot + rest + inner.rest,
                                              node.lineno, inner.origin or Origin(inner.function, inner_path, inner.line)))
    return folded(found)[0] if found else None


def _assigned(function: ast.FunctionDef, name: str) -> list[tuple[ast.expr, int]]:
    return [(node.value, node.lineno) for node in ast.walk(function) if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]


def rebound(scope: ast.AST, name: str, after: int, before: int) -> bool:
    """``name`` is bound to something new between two lines of ``scope``: ``model = model_new``
    (a network the function built) before it trains ``model``, or ``model = resnet18()`` again
    after a freeze of the old one. ``model = model.to(device)`` keeps it."""
    return any(isinstance(node, ast.Assign) and after < node.lineno < before
               and bound_value(node, name) is not None
               and not any(dotted(n) == name for n in ast.walk(node.value))
               for node in ast.walk(scope))
