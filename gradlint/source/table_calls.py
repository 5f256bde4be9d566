"""A model class picked from a dict literal and built in the same call (GL406):
``model_map = {"resnet50": ResNet50Model, "vgg16": VGGModel}`` and, under ``if args.model
in ["resnet50"]:``, ``model = model_map[args.model](num_classes=n, pretrained=True)``.
The classes the call may build are the entries its enclosing tests name, else the one a
constant key (an option's default) names, else every entry (each a configuration)."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.chosen_names import chosen_string
from gradlint.source.names import dotted


def table_callees(call: ast.Call, parents: dict, frame: Optional[ast.AST], tree: ast.Module) -> list[str]:
    """The dotted names of the classes (or functions) ``call`` may call; [] when its callee
    is not an entry of a dict literal bound once."""
    func = call.func
    if not (isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name)):
        return []
    table = _table(func.value.id, frame, tree)
    if table is None:
        return []
    entries = {key.value: name for key, value in zip(table.keys, table.values)
               if isinstance(key, ast.Constant) and isinstance(key.value, str) and (name := dotted(value))}
    if len(entries) != len(table.keys):
        return []
    named = _named_by_tests(call, func.slice, parents)
    if named is None:
        chosen = chosen_string(func.slice, frame, tree)
        named = {chosen} if chosen in entries else None
    return [name for key, name in entries.items() if named is None or key in named]


def _table(name: str, frame: Optional[ast.AST], tree: ast.Module) -> Optional[ast.Dict]:
    for scope in ([frame] if frame is not None else []) + [tree]:
        bound = [node.value for node in ast.walk(scope) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
        if bound:
            return bound[0] if len(bound) == 1 and isinstance(bound[0], ast.Dict) else None
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
