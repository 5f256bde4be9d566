"""GL406: a module frozen by the helper it is handed to, which runs it under ``torch.no_grad()``.

Feature-extraction scripts often keep the pretrained network out of the optimiser and hand
it to a helper of the file or of a project module (``get_features(resnet, loader)`` ->
``inference(loader, model)`` -> ``with torch.no_grad(): h = model(x)``). The helper freezes
it as surely as a ``with torch.no_grad()`` around a call in the script: :func:`link_no_grad_runs`
records that as a ``no_grad`` freeze at the handing call, with the helper that runs it."""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Optional

from gradlint.source.frames import FileFrames
from gradlint.source.freeze_facts import Elsewhere, Freeze, FileNorms
from gradlint.source.module_runners import Scope, parameter_of, runs_parameter
from gradlint.source.names import dotted
from gradlint.source.project_functions import project_function

_DEPTH = 3
Found = tuple[ast.FunctionDef, ast.Module, Optional[Path]]  # a function, its module's tree and path
_WITHOUT_GRAD = ("no_grad", "inference_mode")


def link_no_grad_runs(norms: FileNorms, script: Path) -> None:
    """A ``no_grad`` freeze of each model of the file handed to a function that only runs it,
    and only under ``torch.no_grad()``."""
    tree = norms.frames.unit.tree
    assert tree is not None and norms.knowledge is not None
    frozen = {(f.target, f.node.lineno) for f in norms.freezes}
    functions: dict[str, Optional[Found]] = {}  # each callee looked up once
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or not (name := dotted(call.func)):
            continue
        for node in list(call.args) + [k.value for k in call.keywords]:
            model = node.id if isinstance(node, ast.Name) else None
            if model is None or not norms.knowledge.bindings.get(model) or (model, call.lineno) in frozen:
                continue
            if name not in functions:
                functions[name] = project_function(name, tree, script)
            where = _runs_without_grad(call, node, name, functions[name], script)
            if where is not None:
                norms.freezes.append(Freeze(model, "no_grad", call, via=where))
                frozen.add((model, call.lineno))


def _runs_without_grad(call: ast.Call, node: ast.expr, name: str, found: Optional[Found],
                       script: Path) -> Optional[Elsewhere]:
    if found is None:
        return None
    function, module_tree, module = found
    scope = Scope.of(module_tree, None)
    parameter = parameter_of(call, node, function, False)
    if parameter is None or runs_parameter(function, parameter, scope) is None:
        return None  # it does more than run it (keeps it, sets its mode, hands it on unread)
    line = _line_without_grad(function, parameter, scope, 0)
    if line is None:
        return None
    path = os.path.relpath(module.resolve(), script.resolve().parent) if module is not None else None
    return Elsewhere(name, line, path)


def _line_without_grad(function: ast.FunctionDef, parameter: str, scope: Scope, depth: int) -> Optional[int]:
    """The first line where ``function`` runs ``parameter`` when every run of it (there, or in
    a helper of the same module it hands it to) is inside ``torch.no_grad()``; else None."""
    if depth > _DEPTH:
        return None
    parents = {child: parent for parent in ast.walk(function) for child in ast.iter_child_nodes(parent)}
    lines: list[int] = []
    for node in ast.walk(function):
        if not (isinstance(node, ast.Name) and node.id == parameter and isinstance(node.ctx, ast.Load)):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Call) and parent.func is node:
            if not _inside_no_grad(parent, parents):
                return None
            lines.append(parent.lineno)
            continue
        call = parents.get(parent) if isinstance(parent, ast.keyword) else parent
        if isinstance(call, ast.Call) and call.func is not node and (found := scope.callee(call)) is not None:
            inner, bound = found
            handed = parameter_of(call, node, inner, bound)
            line = _line_without_grad(inner, handed, scope, depth + 1) if handed else None
            if line is None:
                return None
            lines.append(line)
    return min(lines) if lines else None


def _inside_no_grad(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                isinstance(item.context_expr, ast.Call)
                and (dotted(item.context_expr.func) or "").rsplit(".", 1)[-1] in _WITHOUT_GRAD for item in node.items):
            return True
    return False


def forward_methods(cls: ast.ClassDef) -> set[str]:
    """``forward`` and the methods it calls on ``self``, however deep (``forward`` ->
    ``self.forward_cnn(img)`` running the CNN under ``torch.no_grad()``): the class's forward pass."""
    methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}
    found, todo = set(), ["forward"] if "forward" in methods else []
    while todo:
        name = todo.pop()
        found.add(name)
        todo.extend(call.func.attr for call in ast.walk(methods[name]) if isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "self" and call.func.attr in methods
                    and call.func.attr not in found and call.func.attr != "__init__")
    return found


def runs_with_gradients(cls: ast.ClassDef, part: str, frozen_run: ast.AST, frames: FileFrames) -> bool:
    """The class also runs ``part`` (``self.encoder``) outside ``torch.no_grad()``, on a path
    that may run with ``frozen_run``: a forward running the encoder on the labelled images
    with gradients and on unlabelled ones without (held-out round 45, a semi-supervised
    segmentation model) trains it; ``if not self.improve: <no_grad run> else: <run>`` is two
    configurations, one of them frozen."""
    return any(isinstance(node, ast.Call) and dotted(node.func) in (part, f"{part}.forward")
               and not _inside_no_grad(node, frames.parents) and not frames.exclusive(frozen_run, node)
               for node in ast.walk(cls))
