"""Where a model a function of the file freezes and returns goes (GL406): ``def
load_checkpoint(path): model = get_model(...); <freeze>; return model``, called by
``make_prediction``, which hands it to ``predict``. When every function the model reaches
that way only runs it (none has a backward or an optimiser step), the frozen model is
never trained, whatever a helper's ``model.train()`` leaves behind."""

from __future__ import annotations

import ast
from typing import Optional

from gradlint.source.frames import Training
from gradlint.source.frozen_norms import FileNorms
from gradlint.source.function_values import own_nodes
from gradlint.source.names import dotted

_DEPTH = 4
# calls that only look at a model (or copy it out): handing it to them trains nothing
_LOOKS = frozenset({"print", "len", "str", "repr", "type", "id", "isinstance", "summary", "torch.save"})


def returned_only_to_inference(norms: FileNorms, frame: Optional[ast.AST], name: str) -> bool:
    """``frame`` (a module-level function) returns ``name``, the file calls it, and every
    function of the file the returned model is handed to (callers binding it, then the
    functions they pass it to) trains nothing; a model handed to anything else (an imported
    trainer, a class, a method) may be trained there: False."""
    tree = norms.frames.unit.tree
    if tree is None or not isinstance(frame, ast.FunctionDef) or frame not in tree.body \
            or not _returns_name(frame, name):
        return False
    holders: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):  # model = load_checkpoint(...)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and isinstance(node.value, ast.Call) and dotted(node.value.func) == frame.name:
            holder = norms.frames.kinds.frame_of(node)
            if holder is None:
                return False  # built at module level: read by the file's other rules
            holders.append((holder, node.targets[0].id))
        elif isinstance(node, ast.Call) and dotted(node.func) == frame.name \
                and not isinstance(norms.frames.parents.get(node), ast.Assign):
            return False  # the model is used some other way: unknown
    return bool(holders) and only_run_in(norms, holders)


def only_run_in(norms: FileNorms, holders: list[tuple[ast.AST, str]]) -> bool:
    """Every function of the file the model reaches from ``holders`` (functions and the name
    each binds it to), handed on by name to the file's module-level functions, trains
    nothing; handed to anything else: False."""
    tree = norms.frames.unit.tree
    if tree is None or any(holder not in tree.body or not isinstance(holder, ast.FunctionDef) or held == "self"
                           for holder, held in holders):
        return False  # (a method's model may be trained by any other method of its class)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    training = {id(f.node) for f in norms.frames.frames if any(isinstance(fact, Training) for fact in f.facts)}
    seen: set[int] = set()
    for _ in range(_DEPTH):
        handed: list[tuple[ast.AST, str]] = []
        for holder, held in holders:
            if id(holder) in seen:
                continue
            seen.add(id(holder))
            if id(holder) in training or _escapes(holder, held):
                return False
            for call in (n for n in own_nodes(holder) if isinstance(n, ast.Call)):
                passed = [(index, arg) for index, arg in enumerate(call.args)] + [(k.arg, k.value) for k in call.keywords]
                places = [place for place, arg in passed if isinstance(arg, ast.Name) and arg.id == held]
                if not places:
                    continue
                callee = functions.get(dotted(call.func) or "")
                if callee is None:
                    if (dotted(call.func) or "") in _LOOKS:
                        continue
                    return False  # an imported trainer, a class, a method: it may train the model
                params = [a.arg for a in callee.args.args]
                for place in places:
                    parameter = params[place] if isinstance(place, int) and place < len(params) else place
                    if not isinstance(parameter, str):
                        return False
                    handed.append((callee, parameter))
        if not handed:
            return True
        holders = handed
    return False


def _escapes(function: ast.AST, name: str) -> bool:
    """``name`` leaves ``function`` other than as an argument: returned or yielded, or bound
    to another name, an attribute or an item, alone or in a literal container."""
    for node in own_nodes(function):
        if not isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom, ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        value = node.value
        parts = list(ast.iter_child_nodes(value)) if isinstance(value, (ast.Dict, ast.List, ast.Tuple, ast.Set)) else [value]
        if any(isinstance(part, ast.Name) and part.id == name for part in parts):
            return True
    return False


def _returns_name(function: ast.FunctionDef, name: str) -> bool:
    return any(isinstance(node, ast.Return) and isinstance(node.value, ast.Name) and node.value.id == name
               for node in own_nodes(function))
