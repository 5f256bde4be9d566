"""A frozen model's name bound to another model between its freeze and where it trains
(GL406): ``encoder = random_encoder()`` frozen, then ``encoder = resnet_encoder()``
trained, is another model; ``model = torch.load(path)`` when resuming is the same one."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.dead_branches import never_taken
from gradlint.source.frozen_norms import FileNorms
from gradlint.source.mode_restores import returns_name
from gradlint.source.names import dotted
from gradlint.source.norm_chains import rebound
from gradlint.source.reaching_bindings import bound_value


def rebuilt_between(norms: FileNorms, target: str, first: ast.AST, later: ast.AST, since: Optional[int] = None) -> bool:
    """``model = build(); <freeze>; ...; model = build(); <freeze>`` in one function (or a
    notebook's module): the second freeze is of another model. ``since``: the line from which
    the name holds the first freeze's model (``net = transfer_model.to(device)``)."""
    first = _factory_call(norms, first, later, target.split(".")[0])
    scope = _shared_scope(norms, first, later)
    start = max(first.lineno, since or 0)  # type: ignore[attr-defined]
    return scope is not None and rebound(scope, target.split(".")[0], start, later.lineno)  # type: ignore[attr-defined]


def rebuilt_on_the_way(norms: FileNorms, target: str, freeze: ast.AST, site: ast.AST) -> bool:
    """The frozen name is bound to a new model between the freeze and ``site`` (the call
    handing it to a training helper) on a path that runs both: ``encoder = random_encoder()``
    frozen, then ``encoder = resnet_encoder()`` trained. A binding in the other branch of an
    ``if`` (``if checkpoint is None: <build, freeze> else: encoder = checkpoint["encoder"]``)
    is another path, and so is one under a switch the file turns off (``load_checkpoint = False``)."""
    root = target.split(".")[0]
    freeze = _factory_call(norms, freeze, site, root)
    scope = _shared_scope(norms, freeze, site)
    if scope is None:
        return False
    tree = norms.frames.unit.tree
    assert tree is not None
    return any(isinstance(node, ast.Assign) and freeze.lineno < node.lineno < site.lineno  # type: ignore[attr-defined]
               and bound_value(node, root) is not None
               and not any(isinstance(n, ast.Name) and n.id == root for n in ast.walk(node.value))
               and not _resumed(node.value)
               and not norms.frames.exclusive(node, freeze) and not norms.frames.exclusive(node, site)
               and not never_taken(node, norms.frames.parents, tree)  # (``load_checkpoint = False``, then ``if load_checkpoint:``)
               for node in ast.walk(scope))


def _resumed(value: ast.expr) -> bool:
    """``model = torch.load(path)``: a whole pickled model, restored with its parameters'
    ``requires_grad`` (a resumed run), not a new model."""
    return isinstance(value, ast.Call) and (dotted(value.func) or "") in ("torch.load", "load")


def _factory_call(norms: FileNorms, node: ast.AST, other: ast.AST, root: str) -> ast.AST:
    """``node`` in a module-level function that returns its ``root`` (``def create_resnetmodel():
    ...; return model``), read from the script's top level (``other``) at the one call of the
    top level that binds ``root`` to its result (``model = create_resnetmodel()``); else ``node``."""
    kinds, tree = norms.frames.kinds, norms.frames.unit.tree
    function = kinds.frame_of(node)
    if kinds.frame_of(other) is not None or not isinstance(function, ast.FunctionDef) or tree is None \
            or function not in tree.body or not returns_name(function, root):
        return node
    calls = [stmt.value for stmt in ast.walk(tree) if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
             and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id == function.name
             and kinds.frame_of(stmt) is None and bound_value(stmt, root) is not None]
    return calls[0] if len(calls) == 1 else node


def _shared_scope(norms: FileNorms, first: ast.AST, later: ast.AST) -> Optional[ast.AST]:
    """The function (or module) holding both nodes, if one does."""
    kinds = norms.frames.kinds
    scope = kinds.frame_of(later)
    if scope is not kinds.frame_of(first) or not hasattr(first, "lineno") or not hasattr(later, "lineno"):
        return None
    return scope or norms.frames.unit.tree
