"""Whether a statement a flag parameter guards runs when nobody passes the flag: read from
the parameter's default where the file never builds the class (nor calls the function) to
pass another value, from every call of the file where it does, or from a configuration read
(``config.get("freeze_backbone", False)``)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Iterator, Optional

from gradlint.source.call_arguments import argument
from gradlint.source.call_flags import flag_value, guard_at, guard_name, guard_of
from gradlint.source.config_reads import parameter_default
from gradlint.source.names import dotted

if TYPE_CHECKING:
    from gradlint.source.modules import ModuleKinds


def off_by_default(node: ast.AST, function: Optional[ast.AST], cls: Optional[ast.ClassDef], tree: ast.Module,
                   parents: dict) -> bool:
    """``node`` runs in a method of ``cls`` only under a flag parameter whose default leaves it
    off (``def __init__(self, freeze_backbone=False): if freeze_backbone: <freeze>``), and the
    file never builds the class (nor calls the method) to pass another value: a LightningModule
    read in its own file is built elsewhere, if at all, with the default."""
    if cls is None and isinstance(function, ast.FunctionDef) and function in tree.body:
        return _off_at_every_call(node, function, tree, parents)
    if cls is None or not isinstance(function, ast.FunctionDef):
        return False
    if _configured_off(node, cls, parents, tree):
        # ``self.freeze_backbone = config.get("freeze_backbone", False)``, then ``if
        # self.freeze_backbone:`` in ``build_model``
        return True
    guard = guard_of(node, function, parents) or _attribute_guard(node, function, cls, parents)
    if guard is None:
        return False
    parameter, negated = guard_name(guard)
    index, default = parameter_default(function, parameter)
    if never_called(function, cls, tree):
        return isinstance(default, ast.Constant) and isinstance(default.value, bool) and default.value == negated
    # ``TransferClassifier(freeze_encoder=freeze_encoder)`` with ``freeze_encoder = False`` set in the
    # caller: every build of the class in the file passes the flag off; for another method
    # (``def build_model(self, feature_extract=False)``), every ``self.build_model(...)`` call does
    # (a command-line option or a configuration entry passed on is a choice left to the user)
    wanted = cls.name if function.name == "__init__" else function.name
    builds = [call for call in ast.walk(tree) if isinstance(call, ast.Call) and (dotted(call.func) or "").rsplit(".", 1)[-1] == wanted
              and (function.name == "__init__" or isinstance(call.func, ast.Attribute))]
    value = flag_value(default, None, tree) if default is not None else None
    return all(isinstance(argument(call, index - 1, parameter) or ast.Constant(None), (ast.Constant, ast.Name))
               and guard_at(call, (index - 1, guard, value if isinstance(value, bool) else None), _function_around(call, parents), tree)
               is False for call in builds)


def _function_around(node: ast.AST, parents: dict) -> Optional[ast.AST]:
    around: Optional[ast.AST] = parents.get(node)
    while around is not None and not isinstance(around, (ast.FunctionDef, ast.AsyncFunctionDef)):
        around = parents.get(around)
    return around


def never_called(function: ast.FunctionDef, cls: Optional[ast.ClassDef], tree: ast.Module) -> bool:
    """The file never calls ``function`` (nor builds ``cls``, for its ``__init__``)."""
    wanted = cls.name if cls is not None and function.name == "__init__" else function.name
    return not any(isinstance(call, ast.Call) and (dotted(call.func) or "").rsplit(".", 1)[-1] == wanted
                   for call in ast.walk(tree))


def factory_flag(call: ast.Call, guard: tuple[int, str, Optional[bool]], kinds: ModuleKinds,
                 tree: Optional[ast.Module]) -> Optional[bool]:
    """The value a factory call gives the parameter its freeze depends on."""
    assert tree is not None
    frame = kinds.frame_of(call)
    runs = guard_at(call, guard, frame, tree)
    if isinstance(runs, str) and (passed_on := runs):  # the caller's own flag, passed on: its default where
        runs = default_flag(passed_on, frame, kinds.class_of(call), tree)  # nothing here passes another
        if runs is None and isinstance(frame, ast.FunctionDef) and frame in tree.body:
            runs = _agreed_at_calls(passed_on, frame, kinds, tree)
    return runs if isinstance(runs, bool) else None


def _agreed_at_calls(guard: str, function: ast.FunctionDef, kinds: ModuleKinds, tree: ast.Module) -> Optional[bool]:
    """Whether a statement runs that a module-level ``function`` reaches with its own flag
    parameter, where every call of the file gives the flag one value (``train_model(data,
    fine_tune)`` with ``fine_tune = st.sidebar.checkbox(..., value=False)``)."""
    parameter, _ = guard_name(guard)
    index, default = parameter_default(function, parameter)
    known = {guard_at(call, (index, guard, bool(default.value) if isinstance(default, ast.Constant) else None),
                      kinds.frame_of(call), tree)
             for call in ast.walk(tree) if isinstance(call, ast.Call) and dotted(call.func) == function.name}
    value = known.pop() if len(known) == 1 else None
    return value if isinstance(value, bool) else None


def default_flag(guard: str, function: Optional[ast.AST], cls: Optional[ast.ClassDef], tree: ast.Module) -> Optional[bool]:
    """Whether a statement runs that ``function`` reaches with its own flag parameter
    (``guard`` as :func:`guard_of` writes it, ``"not freeze"``), read from the parameter's
    default where the file never calls ``function`` (nor builds ``cls``, for ``__init__``)
    to pass another: a LightningModule's ``__init__(self, freeze_backbone=True)`` handing
    the flag to the network it builds."""
    if not isinstance(function, ast.FunctionDef):
        return None
    parameter, negated = guard_name(guard)
    if parameter not in {a.arg for a in function.args.args}:
        return None
    _, default = parameter_default(function, parameter)
    if not (isinstance(default, ast.Constant) and isinstance(default.value, bool)):
        return None
    return default.value != negated if never_called(function, cls, tree) else None


def _off_at_every_call(node: ast.AST, function: ast.FunctionDef, tree: ast.Module, parents: dict) -> bool:
    """``node`` runs in a module-level function only under a flag parameter that every call
    of the file passes off (``def load(freeze): if freeze: <freeze>``; ``load(False)``)."""
    guard = guard_of(node, function, parents)
    if guard is None:
        return False
    index, default = parameter_default(function, guard_name(guard)[0])
    calls = [call for call in ast.walk(tree) if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
             and call.func.id == function.name]
    value = flag_value(default, None, tree) if default is not None else None
    return bool(calls) and all(guard_at(call, (index, guard, value if isinstance(value, bool) else None), None, tree)
                               is False for call in calls)


def asks_unfrozen(call: ast.Call) -> bool:
    """``create_model(name, freeze_backbone=False)``: the call passes a ``freeze...`` keyword
    as False, which a factory may hand on through ``**kwargs`` where its flag is not traced."""
    return any(k.arg and "freeze" in k.arg.lower() and isinstance(k.value, ast.Constant) and k.value.value is False
               for k in call.keywords)


def _init_of(cls: ast.ClassDef) -> Optional[ast.FunctionDef]:
    return next((s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)


def _configured_off(node: ast.AST, cls: ast.ClassDef, parents: dict, tree: ast.Module) -> bool:
    """``node`` runs only under ``if self.<flag>:`` where the class sets the flag once, in
    ``__init__``, from a configuration read whose default leaves it off
    (``config.get("freeze_backbone", False)``), and every build of the class in the file
    passes a dictionary that leaves it off too (or the file builds none)."""
    init = _init_of(cls)
    if init is None:
        return False
    for attr, negated in _self_flag_tests(node, cls, parents):
        sets = [stmt for stmt in ast.walk(cls) if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign))
                and any(isinstance(t, ast.Attribute) and t.attr == attr and dotted(t.value) == "self"
                        for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]))]
        if len(sets) == 1 and parents.get(sets[0]) is init and isinstance(sets[0], ast.Assign) \
                and isinstance(read := sets[0].value, ast.Call) and isinstance(read.func, ast.Attribute) \
                and read.func.attr == "get" and len(read.args) == 2 and isinstance(read.args[1], ast.Constant) \
                and isinstance(read.args[1].value, bool) and isinstance(key := read.args[0], ast.Constant):
            builds = [call for call in ast.walk(tree) if isinstance(call, ast.Call)
                      and (dotted(call.func) or "").rsplit(".", 1)[-1] == cls.name]
            return all(_entry(call, key.value, read.args[1].value, tree) == negated for call in builds) \
                and read.args[1].value == negated
    return False


def _self_flag_tests(node: ast.AST, stop: ast.AST, parents: dict) -> Iterator[tuple[str, bool]]:
    """Each ``if self.<flag>:`` (or ``if not self.<flag>:``) whose body holds ``node``, inside
    ``stop``: the attribute and whether the test is negated."""
    child = node
    while child in parents and child is not stop:
        parent = parents[child]
        if isinstance(parent, ast.If) and child in parent.body:
            test, negated = parent.test, False
            if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                test, negated = test.operand, True
            if isinstance(test, ast.Attribute) and dotted(test.value) == "self":
                yield test.attr, negated
        child = parent


def _entry(call: ast.Call, key: object, default: bool, tree: ast.Module) -> Optional[bool]:
    """The value a build ``Cls(config)`` gives ``config[key]``: from the dictionary written
    there or bound once to the name it passes (``default`` when the key is absent), else None."""
    given = call.args[0] if len(call.args) == 1 and not call.keywords else None
    if isinstance(given, ast.Name):
        bound = [stmt.value for stmt in ast.walk(tree) if isinstance(stmt, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == given.id for t in stmt.targets)]
        given = bound[0] if len(bound) == 1 else None
    if not isinstance(given, ast.Dict):
        return None
    for name, value in zip(given.keys, given.values):
        if name is None or not isinstance(name, ast.Constant):
            return None  # (``**defaults``, or a computed key)
        if name.value == key:
            return value.value if isinstance(value, ast.Constant) and isinstance(value.value, bool) else None
    return default


def _attribute_guard(node: ast.AST, function: ast.FunctionDef, cls: ast.ClassDef, parents: dict) -> Optional[str]:
    """The guard :func:`guard_of` writes for ``if self.freeze_backbone:`` in ``__init__``, the
    attribute set from the parameter of that name (``self.freeze_backbone = freeze_backbone``)."""
    if function.name != "__init__":
        return None
    kept = {target.attr: value.id for stmt in function.body if isinstance(stmt, ast.Assign)
            for target in stmt.targets if isinstance(target, ast.Attribute) and dotted(target.value) == "self"
            and isinstance(value := stmt.value, ast.Name) and value.id in {a.arg for a in function.args.args}}
    for attr, negated in _self_flag_tests(node, function, parents):
        if attr in kept:
            return f"not {kept[attr]}" if negated else kept[attr]
    return None
