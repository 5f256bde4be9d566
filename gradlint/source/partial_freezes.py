"""Freeze loops that stop part-way through a model: the recipe "freeze the first layers,
train the rest". Each leaves the stem of a CNN (its first convolution and BatchNorm, and
the first stages) frozen while ``model.train()`` keeps updating their running statistics.

- ``for p in list(model.parameters())[:-10]: p.requires_grad = False`` (or ``[:100]``);
- ``for child in list(model.children())[:7]: for p in child.parameters(): ...`` (also a
  slice of a ``Sequential``, ``model.features[:10]``, and ``child.requires_grad_(False)``);
- ``for i, p in enumerate(model.parameters()): if i < 100: p.requires_grad = False``;
- ``for child in model.children(): ct += 1; if ct < 7: <freeze child>``;
- the list bound first (``children = list(model.children())``, then ``for child in
  children[:-3]:``), and a bound on its length (``n = len(list(model.children()))``, then
  ``if i < n - 2:``): all but the last children.

Too short a prefix may hold no BatchNorm (a ResNet's first parameter is ``conv1.weight``, its
first child ``conv1``): a prefix of fewer than three parameters or two children is not read.
"""

from __future__ import annotations

import ast
from typing import Optional, Union

from gradlint.source.children_views import NOUNS, SHORTEST, child_listing, from_start, integer
from gradlint.source.freeze_forms import is_false, is_true, requires_grad_value
from gradlint.source.name_filters import frozen_children_by_name
from gradlint.source.names import dotted
from gradlint.source.parameter_defaults import unassigned_defaults
from gradlint.source.string_lists import string_lists

Loop = Union[ast.For, ast.AsyncFor]


def partial_freeze(loop: Loop, parents: Optional[dict] = None) -> Optional[tuple[str, str]]:
    """(the model, which part of it is frozen: ``"its first 7 child modules"``) or None.
    ``parents`` (node -> parent) lets a counter's starting value be read (``ct = 1``)."""
    it = loop.iter
    if isinstance(it, ast.Subscript) and isinstance(it.slice, ast.Slice):
        return _sliced(loop, it, _listing(it.value, loop, parents or {}), parents or {})
    if isinstance(it, ast.Call) and dotted(it.func) == "enumerate" and len(it.args) == 1:
        return _enumerated(loop, it.args[0], parents or {})
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in ("named_children",
                                                                                            "named_modules"):
        # (a test that freezes a top-level child by name in ``named_modules()`` freezes it whole)
        found = _named(loop, dotted(it.func.value), parents or {})
        target = loop.target
        if (found is None and it.func.attr == "named_children" and (owner := dotted(it.func.value))
                and isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(target.elts[1], ast.Name)):
            return _counted(loop, owner, target.elts[1].id, parents or {})  # ct += 1; if ct < 6: <freeze child>
        return found
    listing = child_listing(it)
    if listing is not None and listing[0] == "children" and isinstance(loop.target, ast.Name):
        return _counted(loop, listing[1], loop.target.id, parents or {})
    return None


def _named(loop: Loop, owner: Optional[str], parents: dict) -> Optional[tuple[str, str]]:
    """``for name, child in model.named_children(): if name not in ["layer3", "layer4"]:
    <freeze child>``: the stem and the early stages frozen, the children the test spares
    trainable (read on the child names of the common families)."""
    target = loop.target
    if (owner is None or not isinstance(target, ast.Tuple) or len(target.elts) != 2
            or not all(isinstance(e, ast.Name) for e in target.elts)):
        return None
    name, child = (e.id for e in target.elts if isinstance(e, ast.Name))
    for stmt in loop.body:
        if not isinstance(stmt, ast.If):
            continue
        # ``if name in ["classifier"]: <unfreeze> else: <freeze child>`` freezes when the test is false
        in_body, in_else = _freezes(stmt.body, child, "children"), _freezes(stmt.orelse, child, "children")
        if in_body != in_else:
            kept = frozen_children_by_name(stmt.test, name, in_body, string_lists(loop, parents))
            if kept is not None:
                spared = ", ".join(f"`{k}`" for k in kept)
                return owner, f"its child modules other than {spared}" if kept else "all its child modules"
    return None


def _listing(node: ast.expr, loop: Loop, parents: dict) -> Optional[tuple[str, str]]:
    """What ``node`` lists (:func:`child_listing`), also through a name the statements just
    before ``loop`` bind to a list of a model's children or parameters (``children =
    list(model.children())``, then ``for child in children[:-3]:``)."""
    if not isinstance(node, ast.Name):
        return child_listing(node)
    body = getattr(parents.get(loop), "body", None)
    if not isinstance(body, list) or loop not in body:
        return None
    for stmt in reversed(body[:body.index(loop)]):
        if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets):
            value = stmt.value
            listed = isinstance(value, ast.Call) and dotted(value.func) in ("list", "tuple")
            return child_listing(value) if listed and len(stmt.targets) == 1 else None
    return None


def _sliced(loop: Loop, it: ast.Subscript, listing: Optional[tuple[str, str]], parents: dict
            ) -> Optional[tuple[str, str]]:
    bound = it.slice
    assert isinstance(bound, ast.Slice)
    if listing is None or not from_start(bound) or not isinstance(loop.target, ast.Name):
        return None
    kind, owner = listing
    # (``[:n_frozen_children]`` with ``n_frozen_children=6``, a parameter's default or a number set just before)
    end = integer(bound.upper) if not isinstance(bound.upper, ast.Name) else _bounds_before(loop, parents).get(bound.upper.id)
    if end is None or not _freezes(loop.body, loop.target.id, kind):
        return None
    if end < 0:
        return owner, f"all but its last {-end} {NOUNS[kind]}"
    return (owner, f"its first {end} {NOUNS[kind]}") if end >= SHORTEST[kind] else None


def _enumerated(loop: Loop, listed: ast.expr, parents: dict) -> Optional[tuple[str, str]]:
    """``for i, p in enumerate(model.parameters()): if i < 100: <freeze p>`` (or ``p.requires_grad
    = False if i < 100 else True``; the bound may be ``len(model) - 3``, all but the last three)."""
    listing = _listing(listed, loop, parents)
    target = loop.target
    if listing is None and isinstance(target, ast.Tuple) and len(target.elts) == 2 and isinstance(
            pair := target.elts[1], ast.Tuple) and len(pair.elts) == 2 and (listing := _named_listing(listed)) is not None:
        # ``for i, (name, p) in enumerate(model.named_parameters()):``: read as the parameters themselves
        target = ast.Tuple([target.elts[0], pair.elts[1]], ast.Store())
    if (listing is None or not isinstance(target, ast.Tuple) or len(target.elts) != 2
            or not all(isinstance(e, ast.Name) for e in target.elts)):
        return None
    kind, owner = listing
    index, item = (e.id for e in target.elts if isinstance(e, ast.Name))
    shorts, lengths = _lengths_before(loop, owner, parents)
    bounds = {**_bounds_before(loop, parents), **shorts}
    counted_before: Optional[str] = None
    for stmt in loop.body:
        if _adds_one(stmt):
            counted_before = stmt.target.id  # type: ignore[attr-defined]
            continue
        # (an ``else`` that leaves the child trainable, ``p.requires_grad = True``, keeps the reading)
        test = (stmt.test if isinstance(stmt, ast.If) and _freezes(stmt.body, item, kind)
                and not _freezes(stmt.orelse, item, kind) else _conditional_freeze(stmt, item, kind))
        if test is None:
            continue
        count = _below(test, index, bounds)
        if count is None and isinstance(test, ast.Compare) and test.comparators and isinstance(test.left, ast.Name) \
                and test.left.id == index and isinstance(test.ops[0], ast.Lt) \
                and ((short := _short_of(test.comparators[0], owner, lengths)) is not None
                     or isinstance(listed, ast.Name) and (short := _short_of(test.comparators[0], listed.id)) is not None):
            count = -short  # ``i < n - 2`` with ``n = len(list(model.children()))``: all but the last two
        # ``ct = 0; for idx, child in enumerate(...): if ct < 3: <freeze>; ...; ct += 1``
        counter = _counter_tested(test, loop, index) if count is None else None
        if counter is not None and (below := _below(test, counter, bounds)) is not None:
            count = below - _start(loop, counter, parents) - (1 if counter == counted_before else 0)
        if count is None and isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == index \
                and isinstance(test.ops[0], ast.Lt) and isinstance(bound := test.comparators[0], ast.Name) \
                and (share := _shares_before(loop, owner, listed, parents).get(bound.id)) is not None:
            return owner, f"the first {share:.0%} of its {NOUNS[kind]}"  # freeze_n = int(len(layers) * 0.75)
        if count is not None and count < 0:
            return owner, f"all but its last {-count} {NOUNS[kind]}"
        if count is not None and count >= SHORTEST[kind]:
            return owner, f"its first {count} {NOUNS[kind]}"
    return None


def _adds_one(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add) and isinstance(stmt.target, ast.Name)
            and isinstance(stmt.value, ast.Constant) and stmt.value.value == 1)


def _counter_tested(test: ast.expr, loop: Loop, index: str) -> Optional[str]:
    """The name ``test`` compares when the loop adds one to it on each turn and it is not the
    loop's own index."""
    left = test.left if isinstance(test, ast.Compare) else None
    if not isinstance(left, ast.Name) or left.id == index:
        return None
    return left.id if any(_adds_one(stmt) and stmt.target.id == left.id  # type: ignore[attr-defined]
                          for stmt in loop.body) else None


def _bounds_before(loop: Loop, parents: dict) -> dict[str, int]:
    """The integer each name a freeze bound may use stands for before ``loop``: a parameter's
    default (``n_layer=6``), or a name the statements just before the loop set to a number
    or to a configuration look-up with a numeric default (``n = config.get("layers_to_freeze",
    3)``: 3, what the code falls back on)."""
    found = _defaults_around(loop, parents)
    body = getattr(parents.get(loop), "body", None)
    if not isinstance(body, list) or loop not in body:
        return found
    for stmt in body[:body.index(loop)]:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(name := stmt.targets[0], ast.Name):
            value = stmt.value
            if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get"
                    and len(value.args) == 2 and not value.keywords):
                value = value.args[1]
            number = integer(value)
            if number is not None:
                found[name.id] = number
            else:
                found.pop(name.id, None)
    return found


def _named_listing(node: ast.expr) -> Optional[tuple[str, str]]:
    """``model.named_parameters()`` -> ("parameters", "model"), ``named_children()`` -> ("children", ...)."""
    if isinstance(node, ast.Call) and dotted(node.func) in ("list", "tuple") and len(node.args) == 1:
        node = node.args[0]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args \
            and (kind := {"named_parameters": "parameters", "named_children": "children"}.get(node.func.attr)) \
            and (owner := dotted(node.func.value)):
        return kind, owner
    return None


def _conditional_freeze(stmt: ast.stmt, item: str, kind: str) -> Optional[ast.expr]:
    """The test under which ``item.requires_grad = False if <test> else True`` freezes ``item``
    (for a child module: each of its parameters, ``for p in child.parameters(): ...``)."""
    if kind == "children" and isinstance(stmt, (ast.For, ast.AsyncFor)) and isinstance(stmt.target, ast.Name) \
            and child_listing(stmt.iter) == ("parameters", item):
        return next((test for inner in stmt.body
                     if (test := _conditional_freeze(inner, stmt.target.id, "parameters")) is not None), None)
    if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(target := stmt.targets[0], ast.Attribute)
            and target.attr == "requires_grad" and dotted(target.value) == item and isinstance(value := stmt.value, ast.IfExp)
            and is_false(value.body) and is_true(value.orelse)):
        return value.test
    return None


def _lengths_before(loop: Loop, owner: str, parents: dict) -> tuple[dict[str, int], frozenset[str]]:
    """Names set just before ``loop`` to ``len(owner) - k``: -k (all but the last ``k``); and the
    names set to ``len(owner)`` itself (a test ``i < n - 2`` reads them)."""
    body = getattr(parents.get(loop), "body", None)
    if not isinstance(body, list) or loop not in body:
        return {}, frozenset()
    found: dict[str, int] = {}
    lengths: set[str] = set()  # ``n = len(list(model.children()))``
    for stmt in body[:body.index(loop)]:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        if (short := _short_of(stmt.value, owner, frozenset(lengths))) is not None:
            found[stmt.targets[0].id] = -short
        elif _length_of(stmt.value, owner):
            lengths.add(stmt.targets[0].id)
    return found, frozenset(lengths)


def _shares_before(loop: Loop, owner: str, listed: ast.expr, parents: dict) -> dict[str, float]:
    """Names set just before ``loop`` to a share of the listing's length, at least a quarter:
    ``freeze_n = int(len(all_layers) * 0.75)`` -> 0.75 (also ``len(layers) // 2``)."""
    body = getattr(parents.get(loop), "body", None)
    if not isinstance(body, list) or loop not in body:
        return {}
    found: dict[str, float] = {}
    for stmt in body[:body.index(loop)]:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            value = stmt.value
            while isinstance(value, ast.Call) and dotted(value.func) in ("int", "round", "math.floor", "math.ceil") \
                    and len(value.args) == 1:
                value = value.args[0]
            share = None
            if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
                length, factor = (value.left, value.right) if isinstance(value.left, ast.Call) else (value.right, value.left)
                share = factor.value if isinstance(factor, ast.Constant) and isinstance(factor.value, float) \
                    and (_length_of(length, owner) or _length_of(length, dotted(listed) or "")) else None
            elif isinstance(value, ast.BinOp) and isinstance(value.op, ast.FloorDiv) and (divisor := integer(value.right)) \
                    and (_length_of(value.left, owner) or _length_of(value.left, dotted(listed) or "")):
                share = 1 / divisor
            if share is not None and 0.25 <= share < 1:
                found[stmt.targets[0].id] = share
    return found


def _short_of(value: ast.expr, owner: str, lengths: frozenset[str] = frozenset()) -> Optional[int]:
    """``len(owner) - 3`` -> 3 (also ``len(list(owner.children())) - 3``, and ``n - 3`` with
    ``n`` one of ``lengths``, the names bound to such a length)."""
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Sub) and (
            isinstance(value.left, ast.Name) and value.left.id in lengths or _length_of(value.left, owner)):
        short = integer(value.right)
        return short if short is not None and short > 0 else None
    return None


def _length_of(value: ast.expr, owner: str) -> bool:
    """``len(owner)``, ``len(list(owner.children()))`` (or its parameters); ``owner`` may be a
    name bound to such a list (``children``)."""
    if not (isinstance(value, ast.Call) and dotted(value.func) == "len" and len(value.args) == 1):
        return False
    listed = value.args[0]
    return dotted(listed) == owner or (listing := child_listing(listed)) is not None and listing[1] == owner \
        and not isinstance(listed, ast.Attribute)


def _counted(loop: Loop, owner: str, child: str, parents: dict) -> Optional[tuple[str, str]]:
    """``ct = 0; for child in model.children(): ct += 1; if ct < 7: <freeze child>``: the
    counter counts the children before the test (its start + 1 for the first), or after it."""
    counted_before: Optional[str] = None
    for stmt in loop.body:
        if (isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add) and isinstance(stmt.target, ast.Name)
                and isinstance(stmt.value, ast.Constant) and stmt.value.value == 1):
            counted_before = stmt.target.id
        elif isinstance(stmt, ast.If) and not stmt.orelse and _freezes(stmt.body, child, "children"):
            names = [n.id for n in ast.walk(stmt.test) if isinstance(n, ast.Name)]
            counter = counted_before or (names[0] if names else None)
            below = _below(stmt.test, counter, _defaults_around(loop, parents)) if counter else None
            if below is None:
                return None
            count = below - _start(loop, counter, parents) - (1 if counted_before else 0)
            return (owner, f"its first {count} {NOUNS['children']}") if count >= SHORTEST["children"] else None
    return None


def _start(loop: Loop, counter: Optional[str], parents: dict) -> int:
    """The value ``counter`` is given last before ``loop`` in the statements around it (0
    when none is seen)."""
    body = getattr(parents.get(loop), "body", None)
    if not isinstance(body, list) or loop not in body:
        return 0
    for stmt in reversed(body[:body.index(loop)]):
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == counter):
            return integer(stmt.value) or 0
    return 0


def extent_parameter(loop: ast.AST, parents: dict) -> Optional[str]:
    """The parameter whose default says how many children ``loop`` freezes (``if ct <
    n_layer:`` with ``n_layer=6``): a call passing it freezes another number of them."""
    if not isinstance(loop, (ast.For, ast.AsyncFor)):
        return None
    defaults = _defaults_around(loop, parents)
    for node in ast.walk(loop):
        if isinstance(node, ast.Compare) and node.comparators and isinstance(bound := node.comparators[0], ast.Name) \
                and bound.id in defaults:
            return bound.id
    it = loop.iter  # for child in list(net.children())[:n_frozen]:
    if isinstance(it, ast.Subscript) and isinstance(it.slice, ast.Slice) and isinstance(upper := it.slice.upper, ast.Name) \
            and upper.id in defaults:
        return upper.id
    return None


def _defaults_around(loop: Loop, parents: dict) -> dict[str, int]:
    """The integer defaults of the parameters of the function around ``loop``
    (``def set_parameter_requires_grad(model, n_layer=6)``)."""
    node: Optional[ast.AST] = loop
    while node is not None and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        node = parents.get(node)
    if node is None:
        return {}
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    return {name: value for name, default in unassigned_defaults(node).items() if (value := integer(default)) is not None}


def _below(test: ast.expr, name: Optional[str], defaults: Optional[dict[str, int]] = None) -> Optional[int]:
    """How many values from 0 pass ``name < N`` (``N``) or ``name <= N`` (``N + 1``); ``N``
    may be a parameter with an integer default (``defaults``)."""
    bound_node = test.comparators[0] if isinstance(test, ast.Compare) and test.comparators else None
    bound = integer(bound_node) if not isinstance(bound_node, ast.Name) else (defaults or {}).get(bound_node.id)
    if bound is not None and bound < 0 and not isinstance(bound_node, ast.Name):
        return None  # (``i < -3`` holds for no index)
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name)
            and test.left.id == name and bound is not None):
        if isinstance(test.ops[0], ast.Lt):
            return bound
        if isinstance(test.ops[0], ast.LtE):
            return bound + 1
    return None


def _freezes(body: list[ast.stmt], item: str, kind: str) -> bool:
    """The statements freeze ``item`` (a parameter; or a child module, through its own
    parameters or ``requires_grad_(False)``)."""
    for stmt in body:
        if kind == "parameters" and requires_grad_value(stmt, item) is False:
            return True
        if kind == "children":
            if requires_grad_value(stmt, item) is False:  # child.requires_grad_(False)
                return True
            if (isinstance(stmt, (ast.For, ast.AsyncFor)) and isinstance(stmt.target, ast.Name)
                    and child_listing(stmt.iter) == ("parameters", item)
                    and any(requires_grad_value(s, stmt.target.id) is False for s in stmt.body)):
                return True
            if (isinstance(stmt, (ast.For, ast.AsyncFor)) and isinstance(stmt.target, ast.Tuple)
                    and len(stmt.target.elts) == 2 and isinstance(param := stmt.target.elts[1], ast.Name)
                    and isinstance(stmt.iter, ast.Call) and isinstance(stmt.iter.func, ast.Attribute)
                    and stmt.iter.func.attr == "named_parameters" and dotted(stmt.iter.func.value) == item
                    and any(requires_grad_value(s, param.id) is False for s in stmt.body)):
                return True  # for name, p in child.named_parameters(): p.requires_grad = False
    return False
