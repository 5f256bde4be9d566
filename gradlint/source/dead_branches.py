"""Branches a constant switch of the file never takes: ``WEIGHTS_FREEZING = False`` at
the top of ``main`` (or of the module), then ``if WEIGHTS_FREEZING: <freeze>``. The
switch is a name bound once, to a literal (a string only where the test compares it:
``MODEL = 'densenet161'``, then ``if MODEL == 'densenet161': ... else: ...``), in the function the branch is in or at module
level (and never rebound elsewhere); the code under the branch
its value rules out does not run."""

from __future__ import annotations

import ast
import operator
from typing import Optional

from gradlint.source.config_reads import config_path
from gradlint.source.config_values import project_yaml_entry
from gradlint.source.function_values import own_nodes
from gradlint.source.project_constants import UNKNOWN

_UNKNOWN = object()
_ORDER = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt, ast.LtE: operator.le}


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def never_taken(node: ast.AST, parents: dict, tree: ast.Module) -> bool:
    """``node`` sits in the body of an ``if`` whose test is false (or the ``else`` of one
    that is true) by a constant switch of the file."""
    child = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.If) and child is not parent.test:
            value = _truth(parent.test, parent, parents, tree)
            if value is not None and (child in parent.body) != value:
                return True
        # ``Adam(encoder.parameters()) if fine_tune_encoder else None``
        if isinstance(parent, ast.IfExp) and child is not parent.test:
            value = _truth(parent.test, parent, parents, tree)
            if value is not None and (child is parent.body) != value:
                return True
        child = parent
    return False


def _truth(test: ast.expr, at: ast.AST, parents: dict, tree: ast.Module) -> Optional[bool]:
    if isinstance(test, ast.Constant):  # ``if False:`` (a notebook cell switched off), ``if 0:``
        return bool(test.value)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _truth(test.operand, at, parents, tree)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):  # ``if fine_tune and optimizer is None:``: one false switch decides an ``and``
        values = [_truth(value, at, parents, tree) for value in test.values]
        decisive = isinstance(test.op, ast.Or)  # (an ``or`` is decided by one true switch)
        return decisive if decisive in values else None if None in values else not decisive
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot))
            and isinstance(right := test.comparators[0], ast.Constant) and (right.value is None or isinstance(right.value, bool))):
        value = _switch(test.left.id, at, parents, tree) if isinstance(test.left, ast.Name) else _UNKNOWN
        if value is _UNKNOWN:  # ``if fine_tune_encoder is True:``, ``if checkpoint is None:``
            return None
        return (value is right.value) == isinstance(test.ops[0], ast.Is)
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq))
            and isinstance(test.left, ast.Name) and isinstance(right := test.comparators[0], ast.Constant)):
        value = _switch(test.left.id, at, parents, tree)  # ``MODEL == 'densenet161'``
        return None if value is _UNKNOWN else (value == right.value) == isinstance(test.ops[0], ast.Eq)
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.In, ast.NotIn))
            and isinstance(test.left, ast.Name) and isinstance(group := test.comparators[0], (ast.List, ast.Tuple, ast.Set))
            and all(isinstance(e, ast.Constant) for e in group.elts)):
        value = _switch(test.left.id, at, parents, tree)  # ``stage in ['pretrain', 'check_part_pretrain']``
        members = [e.value for e in group.elts if isinstance(e, ast.Constant)]
        return None if value is _UNKNOWN else (value in members) == isinstance(test.ops[0], ast.In)
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _ORDER
            and isinstance(test.left, ast.Name) and isinstance(right := test.comparators[0], ast.Constant)
            and _number(right.value)):
        value = _switch(test.left.id, at, parents, tree)  # ``fixed_blocks = 1`` ... ``if fixed_blocks >= 2:``
        if not (isinstance(value, (int, float)) and _number(value) and isinstance(bound := right.value, (int, float))):
            return None
        return bool(_ORDER[type(test.ops[0])](value, bound))
    if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == "self":
        value = _attribute_switch(test.attr, at, parents)  # self.freeze_base = False ... if self.freeze_base:
        return None if value is _UNKNOWN or isinstance(value, str) else bool(value)
    if not isinstance(test, ast.Name):
        return None
    value = _switch(test.id, at, parents, tree)
    return None if value is _UNKNOWN or isinstance(value, str) else bool(value)


def _switch(name: str, at: ast.AST, parents: dict, tree: ast.Module) -> object:
    """The literal ``name`` holds at ``at``: bound once in ``at``'s function, or (not bound
    there) once at module level and nowhere else; else _UNKNOWN."""
    function = at
    while function in parents and not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        function = parents[function]
    scopes: list[ast.AST] = []
    if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if any(a.arg == name for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)):
            return _UNKNOWN  # what the callers pass
        if not any(isinstance(node, ast.Global) and name in node.names for node in own_nodes(function)):
            scopes.append(function)  # (with ``global checkpoint``, its bindings there are the module's)
    for scope in [*scopes, tree]:
        bound = [value for node in own_nodes(scope) for value in _bound(node, name)]
        if not bound:
            continue
        if len(bound) == 1 and (path := config_path(bound[0], scope)):
            # do_freeze = fb_cfg.get("enabled", False), the project's every YAML file setting it alike
            loaded = project_yaml_entry(path, tree)
            return _UNKNOWN if loaded is UNKNOWN else loaded
        if len(bound) != 1 or not isinstance(bound[0], ast.Constant):
            return _UNKNOWN
        value = bound[0].value
        # (a function's ``global fine_tune_encoder`` alone changes nothing: a binding there does, unless the
        # switch's own value keeps it from running: ``if checkpoint is None: ... else: checkpoint = torch.load(checkpoint)``)
        if scope is tree and any(_bound(node, name) and not _ruled_out_by(node, name, value, parents)
                                 for node in ast.walk(tree) if not _at_module(node, parents, tree)):
            return _UNKNOWN  # set again in a function
        return value
    return _UNKNOWN


def _ruled_out_by(node: ast.AST, name: str, value: object, parents: dict) -> bool:
    """``node`` sits in an arm of an ``if`` testing ``name`` alone that ``value`` rules out."""
    child = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.If) and child is not parent.test:
            taken = _test_on(parent.test, name, value)
            if taken is not None and (child in parent.body) != taken:
                return True
        child = parent
    return False


def _test_on(test: ast.expr, name: str, value: object) -> Optional[bool]:
    """What ``test`` gives when ``name`` holds ``value``: ``name``, ``not name``, ``name is None``."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _test_on(test.operand, name, value)
        return None if inner is None else not inner
    if isinstance(test, ast.Name) and test.id == name:
        return bool(value)
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and test.left.id == name
            and isinstance(test.ops[0], (ast.Is, ast.IsNot)) and isinstance(right := test.comparators[0], ast.Constant)):
        return (value is right.value) == isinstance(test.ops[0], ast.Is)
    return None


def _attribute_switch(attribute: str, at: ast.AST, parents: dict) -> object:
    """The literal ``self.<attribute>`` holds at ``at``: set once in its class, to a literal,
    earlier in the method ``at`` is in (``self.freeze_base = False`` in ``__init__``); else
    _UNKNOWN."""
    method, cls = at, None
    while method in parents and not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
        method = parents[method]
    cls = parents.get(method)
    if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) or not isinstance(cls, ast.ClassDef):
        return _UNKNOWN
    assigned = [node for node in ast.walk(cls) if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign))
                and any(isinstance(t, ast.Attribute) and t.attr == attribute and isinstance(t.value, ast.Name)
                        and t.value.id == "self" for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))]
    if len(assigned) != 1 or not isinstance(only := assigned[0], ast.Assign) or not isinstance(only.value, ast.Constant) \
            or only.lineno > getattr(at, "lineno", 0) or not any(node is only for node in ast.walk(method)):
        return _UNKNOWN
    return only.value.value


def _bound(node: ast.AST, name: str) -> list[ast.expr]:
    """The values ``node`` binds to ``name`` (a tuple target or an augmented one: unknown)."""
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return [node.value] if node.value is not None else [ast.Name(name)]
        if any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t)):
            return [ast.Name(name)]
    if isinstance(node, (ast.AugAssign, ast.For, ast.With, ast.NamedExpr, ast.Import, ast.ImportFrom)):
        names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.asname or alias.name for alias in node.names]
        if name in names:
            return [ast.Name(name)]
    return []


def _at_module(node: ast.AST, parents: dict, tree: ast.Module) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return False
    return True


def parameter_branch(node: ast.AST, function: ast.FunctionDef, parents: dict) -> Optional[tuple[str, str]]:
    """``("model_name", "resnet")`` when ``node`` runs only under ``if model_name == "resnet":``
    (or an ``elif`` of it) with ``model_name`` a parameter of ``function``."""
    params = {a.arg for a in function.args.args}
    child = node
    while child in parents and child is not function:
        parent = parents[child]
        if isinstance(parent, ast.If) and child in parent.body:
            test = parent.test
            if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
                    and isinstance(test.left, ast.Name) and test.left.id in params
                    and isinstance(value := test.comparators[0], ast.Constant) and isinstance(value.value, str)):
                return test.left.id, value.value
        child = parent
    return None
