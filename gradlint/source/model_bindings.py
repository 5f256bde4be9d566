"""Which model a name holds where GL215 reads its output, when the file binds it more than
once: ``model = classifier.to(device)`` (an alias), ``if kind == "v3": net = UNet3Plus()
else: net = UNet()`` (branches), ``model = Net(); model = Wrapper(model)`` (a replacement),
or a local of another function with the same name."""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Optional

from gradlint.source.endings import Ending
from gradlint.source.names import dotted
from gradlint.source.norm_knowledge import unwrap


def alias_models(tree: ast.Module, models: dict[str, Ending], others: dict[str, list[ast.Assign]]) -> None:
    """``model = classifier.to(device)`` (or ``net = model``) names the model ``classifier``
    holds, when nothing else binds ``model``; so do ``model = models[i]`` and ``for model in
    models`` for a list of models built alike (``[MyNet() for _ in clients]``)."""
    for _ in range(2):  # an alias of an alias
        for node in ast.walk(tree):
            if isinstance(node, (ast.For, ast.AsyncFor)) and (target := dotted(node.target)):
                source = dotted(node.iter)  # for client_model in client_models: a model of the list
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and (target := dotted(node.targets[0])):
                value = unwrap(node.value)
                # client_model = client_models[i]: one of a list of models built alike
                source = dotted(value.value) if isinstance(value, ast.Subscript) and not isinstance(value.slice, ast.Slice) \
                    and dotted(value.value) in models else dotted(value)
            else:
                continue
            if source in models and target not in models and target not in others and target != source:
                models[target] = models[source]


def keep_branch_endings(models: dict[str, Ending], endings: dict[str, list[ast.Assign]],
                         others: dict[str, list[ast.Assign]],
                         parents: dict[ast.AST, ast.AST]) -> dict[Optional[ast.AST], set[str]]:
    """A name bound to a model ending in an activation and to one without it: linked when
    the two are branches of one ``if`` (``if kind == "v3": net = UNet3Plus() else: net =
    UNet()``: the configuration that picks the first is broken), noted as that branch;
    dropped when one replaces the other (``model = Net(); model = Wrapper(model)``). A
    binding in another function (``model = Pretrained()`` inside an ``__init__``) is a local
    there: the name is left out of that function only, as returned (function -> names).
    ``parents``: the file's node -> parent map."""
    shadowed: dict[Optional[ast.AST], set[str]] = {}
    for name, plain in others.items():
        bound = endings.get(name, [])
        scopes = {_scope(b, parents) for b in bound}
        for node in plain:
            if bound and _scope(node, parents) not in scopes:
                shadowed.setdefault(_scope(node, parents), set()).add(name)
        plain = [node for node in plain if not bound or _scope(node, parents) in scopes]
        if not plain:
            continue
        if name not in models or not bound or not all(_exclusive(a, b, parents) for a in bound for b in plain):
            models.pop(name, None)
            continue
        branch = _arm(name, bound[0])
        models[name] = {key: replace(activation, branch=branch, bound_at=bound[0]) for key, activation in models[name].items()}
    return shadowed


def shadow_other_locals(tree: ast.Module, models: dict[str, Ending], endings: dict[str, list[ast.Assign]],
                        shadowed: dict[Optional[ast.AST], set[str]], parents: dict[ast.AST, ast.AST]) -> None:
    """A plain name a function binds to any other call (``model = DiffPool()`` of a class
    GL215 cannot read) is that function's own local, not the model another function
    builds under the same name."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in models and isinstance(unwrap(node.value), ast.Call)):
            continue
        name = node.targets[0].id
        scope = _scope(node, parents)
        if scope is not None and node not in endings.get(name, []) \
                and all(_scope(bound, parents) is not scope for bound in endings.get(name, [])):
            shadowed.setdefault(scope, set()).add(name)


def branch_union(name: str, bound: Ending, earlier: list[ast.Assign], ending: Ending, node: ast.Assign,
                 parents: dict[ast.AST, ast.AST]) -> Optional[Ending]:
    """A name bound to two classes with different endings in different arms of one ``if``
    (``if self.name == 'cgan': self.NetD = Discriminator(...)`` ``elif ... 'infogan':
    self.NetD = InfoDiscriminator(...)``, one returning a probability, the other a
    ``(validity, label, code)`` triple): each output only one of them has is kept, noted as
    that arm (the unpacking of the call picks it by its length). None when the bindings are
    not arms of one choice."""
    if not earlier or not all(_exclusive(a, node, parents) for a in earlier):
        return None
    merged: Ending = {}
    for position, activation in bound.items():
        if position not in ending:
            merged[position] = activation if activation.branch else replace(activation, branch=_arm(name, earlier[0]),
                                                                                bound_at=earlier[0])
    for position, activation in ending.items():
        if position not in bound:
            merged[position] = replace(activation, branch=_arm(name, node), bound_at=node)
    return merged


def _arm(name: str, binding: ast.Assign) -> str:
    value = unwrap(binding.value)
    callee = dotted(value.func) if isinstance(value, ast.Call) else None
    return f"when `{name}` is the {callee or 'model'} of line {binding.lineno}"


def _scope(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> Optional[ast.AST]:
    """The function a binding is in (None: the module)."""
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return node
    return None


def _exclusive(a: ast.AST, b: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """``a`` and ``b`` lie in different arms of one ``if`` (an ``elif`` is an ``if`` in the
    ``else`` arm)."""
    arms: dict[int, str] = {}
    node = a
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.If):
            arms[id(parent)] = "body" if node in parent.body else "orelse" if node in parent.orelse else "test"
        node = parent
    node = b
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.If) and id(parent) in arms:
            arm = "body" if node in parent.body else "orelse" if node in parent.orelse else "test"
            return arm != arms[id(parent)] and "test" not in (arm, arms[id(parent)])
        node = parent
    return False


def contradicting_arms(a: ast.AST, b: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """``a`` and ``b`` never both run: opposite arms of one ``if``, or arms of two tests of
    one name against different constants (``if args.model == 'gcn': model = GCN(...)``
    and, further down, ``if args.model == 'sgc': train_sgc(model, ...)``)."""
    if _exclusive(a, b, parents):
        return True
    first, second = _equalities(a, parents), _equalities(b, parents)
    return any(name in second and second[name] != value for name, value in first.items())


def _equalities(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> dict[str, object]:
    """``{"args.model": "gcn"}`` for a node in the body of ``if args.model == "gcn":``."""
    found: dict[str, object] = {}
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.If) and node in parent.body and isinstance(test := parent.test, ast.Compare) \
                and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) \
                and isinstance(constant := test.comparators[0], ast.Constant) and (name := dotted(test.left)):
            found.setdefault(name, constant.value)
        node = parent
    return found


class ModuleDefinitions:
    """The module-level bindings of a notebook-style script, by the name they bind, each a
    ``def``/``class`` or not: a loss call of the module's own code at a line where ``model`` (or
    ``loss_fn``) still names a function defined earlier does not reach the model bound to
    that name further down (a book chapter's linear-regression ``def model(xb)`` and ``def
    loss_fn``, then ``model = Model(...)`` and ``loss_fn = nn.CrossEntropyLoss()``)."""

    def __init__(self, tree: ast.Module) -> None:
        self.bindings: dict[str, list[tuple[int, bool]]] = {}  # name -> (line, a definition) in order
        for statement in tree.body:
            for name, defined in _bound_at_top(statement):
                self.bindings.setdefault(name, []).append((statement.lineno, defined))

    def defined_there(self, name: str, line: int) -> bool:
        """``name`` is bound both by a def or class and by an assignment at module level, and
        its last binding before ``line`` is a def or class, or it is bound only after ``line``
        (a name only ever defined is the function itself: ``def loss_fn(pred, label)``)."""
        bound = self.bindings.get(name.split(".")[0])
        if not bound or all(defined for _, defined in bound) or not any(defined for _, defined in bound):
            return False
        before = [defined for at, defined in bound if at < line]
        return not before or before[-1]


def _bound_at_top(statement: ast.stmt) -> list[tuple[str, bool]]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [(statement.name, True)]
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [((alias.asname or alias.name).split(".")[0], False) for alias in statement.names]
    if isinstance(statement, ast.Assign):
        return [(target.id, False) for target in statement.targets if isinstance(target, ast.Name)]
    return []


def top_level_versions(tree: ast.Module, endings: dict[str, list[ast.Assign]], others: dict[str, list[ast.Assign]],
                       built: dict[int, Ending]) -> dict[str, list[tuple[int, Optional[Ending]]]]:
    """For each name the module's top level binds, statement after statement, to models of
    different endings (a notebook reusing ``model`` cell after cell: a sigmoid ``Model``,
    then a softmax ``Net``): (line, the ending each binding builds, None for a model without
    one), in line order. Only names every such binding of which is a top-level statement;
    ``built``: each binding of ``endings`` -> its ending."""
    top = {id(statement) for statement in tree.body}
    found: dict[str, list[tuple[int, Optional[Ending]]]] = {}
    for name in set(endings) | set(others):
        bound = [(node, built.get(id(node))) for node in endings.get(name, [])] + \
                [(node, None) for node in others.get(name, [])]
        if len(bound) < 2 or not all(id(node) in top for node, _ in bound) or not any(ending for _, ending in bound):
            continue
        kinds = {tuple(sorted((str(k), a.kind) for k, a in ending.items())) if ending else () for _, ending in bound}
        if len(kinds) > 1:  # (the same ending each time is the flow-insensitive reading already)
            found[name] = sorted(((node.lineno, ending) for node, ending in bound), key=lambda pair: pair[0])
    return found
