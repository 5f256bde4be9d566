"""A frozen model's name bound to another model between its freeze and where it trains
(GL406): ``encoder = random_encoder()`` frozen, then ``encoder = resnet_encoder()``
trained, is another model; ``model = torch.load(path)`` when resuming is the same one."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.dead_branches import never_taken
from gradlint.source.frozen_norms import FileNorms
from gradlint.source.names import dotted
from gradlint.source.norm_chains import rebound
from gradlint.source.reaching_bindings import bound_value


def rebuilt_between(norms: FileNorms, target: str, first: ast.AST, later: ast.AST, since: Optional[int] = None) -> bool:
    """``model = build(); <freeze>; ...; model = build(); <freeze>`` in one function (or a
    notebook's module): the second freeze is of another model. ``since``: the line from which
    the name holds the first freeze's model (``net = transfer_model.to(device)``)."""
    scope = _shared_scope(norms, first, later)
    start = max(first.lineno, since or 0)  # type: ignore[attr-defined]
    return scope is not None and rebound(scope, target.split(".")[0], start, later.lineno)  # type: ignore[attr-defined]


def rebuilt_on_the_way(norms: FileNorms, target: str, freeze: ast.AST, site: ast.AST) -> bool:
    """The frozen name is bound to a new model between the freeze and ``site`` (the call
    handing it to a training helper) on a path that runs both: ``encoder = random_encoder()``
    frozen, then ``encoder = resnet_encoder()`` trained. A binding in the other branch of an
    ``if`` (``if checkpoint is None: <build, freeze> else: encoder = checkpoint["encoder"]``)
    is another path, and so is one under a switch the file turns off (``load_checkpoint = False``)."""
    scope = _shared_scope(norms, freeze, site)
    if scope is None:
        return False
    root = target.split(".")[0]
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


def _shared_scope(norms: FileNorms, first: ast.AST, later: ast.AST) -> Optional[ast.AST]:
    """The function (or module) holding both nodes, if one does."""
    kinds = norms.frames.kinds
    scope = kinds.frame_of(later)
    if scope is not kinds.frame_of(first) or not hasattr(first, "lineno") or not hasattr(later, "lineno"):
        return None
    return scope or norms.frames.unit.tree
