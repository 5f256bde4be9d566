"""GL406: an optimiser built by a helper function that takes only the model's head.

``optimizer = get_optimizer(model, cfg)`` with ``def get_optimizer(model, cfg): params =
model.classifier.parameters() if cfg["head_only"] else model.parameters(); return SGD(params)``
(in the file or in a project module it imports) trains the head only: the rest of ``model``
is frozen by omission, as with ``SGD(model.classifier.parameters())`` written in place.
:func:`link_optimiser_helpers` reads the helper at each such call, with the helper's
parameters standing for what the call passes (its flags read at the call), and adds an
``optimizer`` freeze of the model there."""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path
from typing import Optional

from gradlint.source.call_arguments import argument
from gradlint.source.call_flags import flag_value, parameter_default
from gradlint.source.parameter_owners import optimised_parameters, parameters_owners
from gradlint.source.freeze_facts import FileNorms, Freeze
from gradlint.source.modules import frame_nodes
from gradlint.source.names import classify, dotted
from gradlint.source.project_functions import project_function

_NAMED = re.compile(r"opt", re.IGNORECASE)


def link_optimiser_helpers(norms: FileNorms, script: Path) -> None:
    """An ``optimizer`` freeze of the model handed to each call of a helper that returns an
    optimiser over one part of it (``model.classifier``) only."""
    tree = norms.frames.unit.tree
    assert tree is not None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(call := node.value, ast.Call)
                and isinstance(call.func, ast.Name) and call.args):
            continue
        # (only a function named for what it builds is read: get_optimizer, make_opt, build_optim)
        found = project_function(call.func.id, tree, script) if _NAMED.search(call.func.id) else None
        if found is None:
            continue
        helper = found[0]
        caller = norms.frames.kinds.frame_of(call)
        owner = _head_optimised(helper, call, caller, tree)
        if owner is None:
            continue
        model = owner.partition(".")[0]
        norms.optimised.add(owner)
        norms.optimised_at.setdefault(owner, []).append(call)
        norms.freezes.append(Freeze(model, "optimizer", call, owner))


def _head_optimised(helper: ast.FunctionDef, call: ast.Call, caller: Optional[ast.AST],
                    tree: ast.Module) -> Optional[str]:
    """``model.classifier`` (as the call spells the model) when every optimiser ``helper``
    returns for this call takes the parameters of that one part of a model the call passes."""
    returned = [r.value for r in frame_nodes(helper) if isinstance(r, ast.Return) and r.value is not None]
    built = [_optimiser(value, helper) for value in returned]
    if not built or any(b is None for b in built):
        return None
    owners: set[str] = set()
    for optimiser in built:
        assert optimiser is not None
        given = optimised_parameters(optimiser)
        if given is None:
            return None
        taken = _owners(given, helper, call, caller, tree)
        if taken is None:
            return None
        owners |= taken
    if len(owners) != 1:
        return None
    (owner,) = owners
    root, _, part = owner.partition(".")
    params = [a.arg for a in helper.args.args]
    if not part or "." in part or root not in params:
        return None
    passed = argument(call, params.index(root), root)
    return f"{passed.id}.{part}" if isinstance(passed, ast.Name) else None


def _optimiser(value: ast.expr, helper: ast.FunctionDef) -> Optional[ast.Call]:
    """The optimiser call ``return`` gives back: written there, or bound once before it."""
    if isinstance(value, ast.Name):
        bound = [n.value for n in frame_nodes(helper) if isinstance(n, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == value.id for t in n.targets)]
        value = bound[0] if len(bound) == 1 else value
    if isinstance(value, ast.Call) and classify(dotted(value.func) or "") == "optimizer" \
            and not (dotted(value.func) or "").endswith("optimizers"):
        return value
    return None


def _owners(given: ast.expr, helper: ast.FunctionDef, call: ast.Call, caller: Optional[ast.AST],
            tree: ast.Module) -> Optional[set[str]]:
    """The modules ``given`` takes the parameters of: written in place, or a name the helper
    binds in the arms of ``if`` statements, read for the arm this call takes; None when
    unknown."""
    if not isinstance(given, ast.Name):
        found = parameters_owners(given)
        return found or None
    bound = [n for n in frame_nodes(helper) if isinstance(n, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == given.id for t in n.targets)]
    if not bound:
        return None
    parents = {child: parent for parent in ast.walk(helper) for child in ast.iter_child_nodes(parent)}
    owners: set[str] = set()
    for assign in bound:
        taken = _arm_taken(assign, helper, parents, call, caller, tree)
        if taken is None:
            return None
        if taken:
            found = parameters_owners(assign.value)
            if not found:
                return None
            owners |= found
    return owners


def _arm_taken(node: ast.AST, helper: ast.FunctionDef, parents: dict, call: ast.Call, caller: Optional[ast.AST],
               tree: ast.Module) -> Optional[bool]:
    """Whether ``node`` runs for ``call``: every ``if`` around it in the helper tests a flag
    the call decides (``cfg["head_only"]``, ``head_only``, ``args.freeze``); None when one
    cannot be read."""
    child = node
    while child in parents and child is not helper:
        parent = parents[child]
        if isinstance(parent, ast.If):
            value = _flag_for_call(parent.test, helper, call, caller, tree)
            if not isinstance(value, bool):
                return None
            if value != (child in parent.body):
                return False
        elif not isinstance(parent, (ast.Assign, ast.Expr)) and parent is not helper:
            return None  # a loop or a ``try``: which runs is not read
        child = parent
    return True


def _flag_for_call(test: ast.expr, helper: ast.FunctionDef, call: ast.Call, caller: Optional[ast.AST],
                   tree: ast.Module) -> object:
    """The value of the helper's ``if`` test with its parameters replaced by what the call
    passes, read as a flag in the caller (:func:`flag_value`)."""
    params = [a.arg for a in helper.args.args]
    negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
    inner = test.operand if isinstance(test, ast.UnaryOp) and negated else test
    holder = inner
    while isinstance(holder, (ast.Subscript, ast.Attribute)):
        holder = holder.value
    if not (isinstance(holder, ast.Name) and holder.id in params):
        return None
    passed = argument(call, params.index(holder.id), holder.id) or parameter_default(helper, holder.id)[1]
    if passed is None:
        return None
    replaced = _replace_name(inner, holder.id, passed)
    value = flag_value(replaced, caller, tree)
    return (not value if negated else value) if isinstance(value, bool) else None


def _replace_name(expr: ast.expr, name: str, by: ast.expr) -> ast.expr:
    """``expr`` with the name ``name`` at its root replaced by ``by``."""
    if isinstance(expr, ast.Name):
        return by
    copied = copy.copy(expr)
    assert isinstance(copied, (ast.Subscript, ast.Attribute))
    copied.value = _replace_name(copied.value, name, by)
    return copied
