"""A model class picked from a dict literal and built in the same call (GL406):
``model_map = {"resnet50": ResNet50Model, "vgg16": VGGModel}`` and, under ``if args.model
in ["resnet50"]:``, ``model = model_map[args.model](num_classes=n, pretrained=True)``.
The classes the call may build are the entries its enclosing tests name, else the one a
constant key (an option's default) names, else every entry (each a configuration).
A table of tuples unpacked first counts too: ``model_ref, head, n = ARCHITECTURES[arch]`` and
``model = model_ref(pretrained=True)`` (``ARCHITECTURES = dict(vgg19=(models.vgg19_bn, ...))``),
a name an ``if`` chain binds to one class or another (``ModelClass = Resnet50Model2``), and a
field of a table of dicts (``model_func = model_dict[name]["model"]`` with ``model_dict =
{"ResNet152": {"model": models.resnet152, "weight": 1}, ...}``)."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.chosen_names import chosen_string
from gradlint.source.names import dotted


def table_callees(call: ast.Call, parents: dict, frame: Optional[ast.AST], tree: ast.Module) -> list[str]:
    """The dotted names of the classes (or functions) ``call`` may call; [] when its callee
    is not an entry of a dict literal bound once (or a name unpacked from one)."""
    func = call.func
    position: Optional[int | str]
    if isinstance(func, ast.Name) and (bound := _bound_once(func.id, frame)) is not None and _fielded(bound):
        func = bound  # model_func = model_dict[name]["model"]; model_func(weights=...)
    if (fielded := _fielded(func)) is not None:
        picked, position = fielded
    elif isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name):
        picked, position = func, None
    elif isinstance(func, ast.Name) and (unpacked := _unpacked_from_table(func.id, frame)) is not None:
        picked, position = unpacked
    elif isinstance(func, ast.Name) and (classes := _chosen_class(func.id, frame)):
        return classes
    else:
        return []
    assert isinstance(picked.value, ast.Name)
    table = dict_table(picked.value.id, frame, tree)
    if table is None:
        return []
    entries = {key: name for key, value in table
               if (element := value if position is None else _element(value, position)) is not None
               and (name := dotted(element))}
    if len(entries) != len(table):
        return []
    named = _named_by_tests(call, picked.slice, parents)
    if named is None:
        chosen = chosen_string(picked.slice, frame, tree)
        named = {chosen} if chosen in entries else None
    return [name for key, name in entries.items() if named is None or key in named]


def _unpacked_from_table(name: str, frame: Optional[ast.AST]) -> Optional[tuple[ast.Subscript, int]]:
    """``(TABLE[key], i)`` when ``name`` is bound once in ``frame``, as the i-th name of
    ``a, b, c = TABLE[key]``."""
    if frame is None:
        return None
    bound = [(node.value, target.elts.index(element)) for node in ast.walk(frame) if isinstance(node, ast.Assign)
             for target in node.targets for element in getattr(target, "elts", [])
             if isinstance(target, ast.Tuple) and isinstance(element, ast.Name) and element.id == name]
    if len(bound) != 1 or not isinstance(value := bound[0][0], ast.Subscript) or not isinstance(value.value, ast.Name):
        return None
    return value, bound[0][1]


def table_entries(call: ast.Call, frame: Optional[ast.AST], tree: ast.Module) -> Optional[tuple[ast.expr, dict[str, str]]]:
    """(the key, {key: the dotted name it picks}) for ``TABLE[key](...)`` with ``TABLE`` a dict
    literal of names bound once (``model_mapping = {"resnet": GenResNet, ...}``); else None."""
    func = call.func
    if not (isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name)):
        return None
    table = dict_table(func.value.id, frame, tree)
    entries = {key: name for key, value in table or [] if (name := dotted(value))}
    return (func.slice, entries) if table and len(entries) == len(table) else None


def _chosen_class(name: str, frame: Optional[ast.AST]) -> list[str]:
    """``ModelClass = None; if model_name == "resnet": ModelClass = ResNetModel elif ...:
    ModelClass = CNNModel`` in ``frame``, then ``ModelClass()``: the classes it may hold
    (each a configuration), when every binding but ``None`` names one."""
    if frame is None:
        return []
    bound: list[ast.expr] = []
    stores = 0  # every binding of the name: one not a plain ``name = value`` (a loop, a tuple) leaves it unknown
    for node in ast.walk(frame):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
            stores += 1
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            bound += [node.value for t in targets if isinstance(t, ast.Name) and t.id == name]
    if stores != len(bound):
        return []
    names = [dotted(value) for value in bound if not (isinstance(value, ast.Constant) and value.value is None)]
    if not names or not all(names) or any(isinstance(value, ast.Call) for value in bound):
        return []
    return list(dict.fromkeys(n for n in names if n))


def _element(value: ast.expr, position: int | str) -> Optional[ast.expr]:
    """The entry's element at a tuple's ``position``, or a dict's field of that name
    (``{"model": models.resnet152, "weight": 1}``)."""
    if isinstance(position, str):
        fields = ({k.value: v for k, v in zip(value.keys, value.values) if isinstance(k, ast.Constant)}
                  if isinstance(value, ast.Dict) else {k.arg: k.value for k in value.keywords}
                  if isinstance(value, ast.Call) and dotted(value.func) == "dict" else {})
        return fields.get(position)
    return value.elts[position] if isinstance(value, ast.Tuple) and position < len(value.elts) else None


def _fielded(node: Optional[ast.expr]) -> Optional[tuple[ast.Subscript, str]]:
    """``(TABLE[key], "model")`` for ``TABLE[key]["model"]``, a table of dicts."""
    if isinstance(node, ast.Subscript) and isinstance(field := node.slice, ast.Constant) and isinstance(field.value, str) \
            and isinstance(picked := node.value, ast.Subscript) and isinstance(picked.value, ast.Name):
        return picked, field.value
    return None


def _bound_once(name: str, frame: Optional[ast.AST]) -> Optional[ast.expr]:
    """The value ``name`` is bound to by the one assignment of it in ``frame``."""
    if frame is None:
        return None
    bound = [node.value for node in ast.walk(frame) if isinstance(node, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
    return bound[0] if len(bound) == 1 else None


def dict_table(name: str, frame: Optional[ast.AST], tree: ast.Module) -> Optional[list[tuple[str, ast.expr]]]:
    """The (key, value) entries of the dict ``name`` is bound to once: a literal with string
    keys or ``dict(key=value, ...)``; None otherwise."""
    for scope in ([frame] if frame is not None else []) + [tree]:
        bound = [node.value for node in ast.walk(scope) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
        if not bound:
            continue
        if len(bound) != 1:
            return None
        value = bound[0]
        if isinstance(value, ast.Dict) and not value.keys and scope is tree:
            return registered(name, tree)  # _REGISTRY = {} filled by ``@register("effnet_b3")``
        if isinstance(value, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in value.keys):
            return [(str(k.value), v) for k, v in zip(value.keys, value.values) if isinstance(k, ast.Constant)]
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict" \
                and not value.args and all(k.arg for k in value.keywords):
            return [(str(k.arg), k.value) for k in value.keywords]
        return None
    return None


def _named_by_tests(call: ast.AST, key: ast.expr, parents: dict) -> Optional[set[str]]:
    """The keys the ``if`` tests around ``call`` allow (``if args.model in ["resnet50"]:``,
    ``== "resnet50"``, in the test's body); None when none tests ``key``."""
    wanted = dotted(key)
    child, found = call, None
    while wanted and child in parents:
        parent = parents[child]
        if isinstance(parent, ast.If) and child in parent.body and isinstance(test := parent.test, ast.Compare) \
                and len(test.ops) == 1 and dotted(test.left) == wanted:
            right = test.comparators[0]
            if isinstance(test.ops[0], ast.Eq) and isinstance(right, ast.Constant) and isinstance(right.value, str):
                found = {right.value}
            elif isinstance(test.ops[0], ast.In) and isinstance(right, (ast.List, ast.Tuple, ast.Set)):
                found = {e.value for e in right.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
            if found is not None:
                return found
        child = parent
    return None


def imported_table_pick(tables: dict[str, dict[str, bool]], call: ast.Call, frame: Optional[ast.AST],
                        tree: ast.Module) -> Optional[bool]:
    """Whether ``TABLE[key](...)`` builds BatchNorm, ``TABLE`` a dict imported from a project
    module (``tables``: its keys and whether each entry builds BatchNorm): the entry a fixed key
    (an option's default) names, else any entry (each a configuration); None when ``call``
    picks from no such table."""
    func = call.func
    if not (isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name)) or func.value.id not in tables:
        return None
    entries = tables[func.value.id]
    key = chosen_string(func.slice, frame, tree)
    return entries.get(key, False) if key is not None else any(entries.values())


def registered(name: str, tree: ast.Module) -> Optional[list[tuple[str, ast.expr]]]:
    """The entries a module-level registry ``name = {}`` gets from decorators: ``@register("b3")``
    with ``def register(key): def deco(fn): name[key] = fn; return fn; return deco``, or a bare
    ``@register`` storing ``name[fn.__name__] = fn``; None when anything else stores into it."""
    stores = [node for node in ast.walk(tree) if isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name for t in node.targets)]
    registrars: dict[str, bool] = {}  # decorator name -> whether it takes the key as its argument
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef) or len(function.args.args) != 1:
            continue
        own = [store for store in stores if any(store is inner for inner in ast.walk(function))]
        if len(own) == 1:
            registrars[function.name] = any(isinstance(inner, ast.FunctionDef) and inner is not function
                                            for inner in ast.walk(function))
    if not stores or len(registrars) != len(stores):  # (every store into it is a registrar's own)
        return None
    entries: list[tuple[str, ast.expr]] = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name) and registrars.get(decorator.func.id) \
                    and len(decorator.args) == 1 and isinstance(key := decorator.args[0], ast.Constant) \
                    and isinstance(key.value, str):
                entries.append((key.value, ast.Name(node.name, ast.Load())))
            elif isinstance(decorator, ast.Name) and registrars.get(decorator.id) is False:
                entries.append((node.name, ast.Name(node.name, ast.Load())))
    return entries or None


def class_table(node: ast.expr, cls: Optional[ast.ClassDef]) -> list[str]:
    """The builders a dict in ``cls``'s body names, for ``self.resnets[depth](...)`` with
    ``resnets = {18: models.resnet18, 50: models.resnet50}`` (any key may be asked for)."""
    name = dotted(node) or ""
    if cls is None or not name.startswith("self.") or name.count(".") != 1:
        return []
    tables = [stmt.value for stmt in cls.body if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Dict)
              and any(isinstance(t, ast.Name) and t.id == name[len("self."):] for t in stmt.targets)]
    names = [dotted(v) for v in tables[0].values] if len(tables) == 1 else []
    return [n for n in names if n] if names and all(names) else []
