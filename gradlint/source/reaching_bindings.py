"""Which bindings of a name reach a statement (GL406 reads the model a freeze freezes
there): the last one before it in its function, or every arm's of an ``if``/``elif`` chain
that ended before it (``if arch == "densenet": model = densenet121() else: model =
vgg16()``): each arm is a configuration of the code, unless a string written in the code
picks one (``create_model("vgg16")``)."""

from __future__ import annotations

import ast
from typing import Optional, Sequence

from gradlint.source.dead_branches import never_taken
from gradlint.source.frames import FileFrames
from gradlint.source.names import dotted
from gradlint.source.picked_builds import called_with


def reaching_choices(frames: FileFrames, name: str, at: ast.AST) -> Optional[list[tuple[ast.Assign, ast.expr]]]:
    """The bindings of ``name``'s root that reach ``at``: the last one before it in its
    function (or module), or every arm's of an ``if`` chain that ended before it; None
    when the function binds it nowhere before ``at`` (or rebinds the model itself:
    ``model = model.to(device)``), where every binding of the file is read instead."""
    frame = frames.kinds.frame_of(at)
    root = binding_root(name)
    line = getattr(at, "lineno", 0)
    scope = frame or frames.unit.tree
    assert scope is not None
    earlier = [node for node in ast.walk(scope)
               if isinstance(node, ast.Assign) and node.lineno <= line and frames.kinds.frame_of(node) is frame
               and (bound := bound_value(node, root)) is not None
               and not (isinstance(bound, ast.Constant) and bound.value is None)  # ``model = None`` first
               and not _passes(bound, root)]  # ``model, opt = build_classifier(model, ...)``: the same model
    if not earlier:
        return None
    last = max(earlier, key=lambda node: node.lineno)
    chain = _chain_before(frames.parents, last, line, frame)
    arms = [node for node in earlier if chain is not None and _inside(node, chain)] or [last]
    if chain is not None and isinstance(frame, ast.FunctionDef):  # create_model("vgg16"): that arm only
        tree = frames.unit.tree
        assert tree is not None
        written = called_with(frame, root, tree, frames.kinds.frame_of)
        if written is not None:
            arms = [node for node in arms if any(node.value is value for value in written)] or arms
    if chain is not None and len(arms) > 1 and frames.unit.tree is not None:
        # ``model_input = 'vgg19'`` set once, then ``if model_input == 'vgg16': ... elif ...``: the arm it takes
        arms = [node for node in arms if not never_taken(node, frames.parents, frames.unit.tree)] or arms
    choices = [(node, value) for node in arms if (value := bound_value(node, root)) is not None]
    if any(dotted(unwrap(value)) == root for _, value in choices):
        return None  # model = model.to(device): read all of them
    return choices


def _chain_before(parents: dict, node: ast.AST, line: int, frame: Optional[ast.AST]) -> Optional[ast.If]:
    """The outermost ``if`` of ``frame`` holding ``node`` that ended before ``line``."""
    found: Optional[ast.If] = None
    child = node
    while child in parents and parents[child] is not frame:
        child = parents[child]
        if isinstance(child, ast.If) and (child.end_lineno or line) < line:
            found = child
    return found


def arm_text(parents: dict, node: ast.AST) -> str:
    """``when `arch == 'densenet'` (line 12)`` for the innermost ``if``/``elif`` whose
    body holds ``node``; ``in the `else` branch (line 14)`` for one in an ``else``."""
    line = getattr(node, "lineno", 0)
    child = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.If) and child in parent.body:
            return f"when `{ast.unparse(parent.test)}` (line {line})"
        if isinstance(parent, ast.If) and child in parent.orelse:
            return f"in the `else` branch (line {line})"
        child = parent
    return f"as built on line {line}"


def assigned(node: ast.AST) -> Optional[tuple[list[ast.expr], ast.expr]]:
    """The targets and value of an assignment, an annotated one included (``self.backbone:
    nn.Module = resnet50()``); None for anything else (``x: int`` binds nothing)."""
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return [node.target], node.value
    return None


def assignment_pairs(targets: Sequence[ast.expr], value: ast.expr) -> list[tuple[ast.expr, ast.expr]]:
    """Each name an assignment binds, with what it gets: ``a, b = x, y`` pairs them; ``model,
    size = build()`` gives each the call (the model is one of its results)."""
    pairs: list[tuple[ast.expr, ast.expr]] = []
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
                pairs.extend(zip(target.elts, value.elts))
            elif isinstance(value, ast.Call):
                pairs.extend((element, value) for element in target.elts)
        else:
            pairs.append((target, value))
    return pairs


def binding_root(name: str) -> str:
    """The part of ``name`` an assignment binds: ``model`` of ``model.backbone``,
    ``self._model`` of ``self._model.features`` (an attribute a method builds)."""
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "self" and len(parts) > 1 else parts[0]


def bound_value(node: ast.Assign, name: str) -> Optional[ast.expr]:
    """What ``node`` binds the name ``name`` (``model``, ``self._model``) to (``model, size
    = build()`` binds ``model`` to the call), or None when it does not bind it."""
    return next((value for target, value in assignment_pairs(node.targets, node.value)
                 if isinstance(target, (ast.Name, ast.Attribute)) and dotted(target) == name), None)


def _inside(node: ast.AST, outer: ast.AST) -> bool:
    return (getattr(outer, "lineno", 0) <= getattr(node, "lineno", -1)
            and getattr(node, "end_lineno", 0) <= (getattr(outer, "end_lineno", 0) or 0))


def _passes(value: ast.expr, name: str) -> bool:
    """``value`` is a call handed the name itself (``prepare(model, lr)``), which a helper
    returns again (its frozen or wrapped self)."""
    return isinstance(value, ast.Call) and any(dotted(arg) == name
                                               for arg in [*value.args, *(k.value for k in value.keywords)])


# methods of a module that return the module itself
MODULE_RETURNING = frozenset({"to", "cuda", "cpu", "float", "double", "half", "train", "eval", "requires_grad_", "apply"})


PARALLEL_WRAPPERS = frozenset({"DataParallel", "DistributedDataParallel"})  # their .module is the model


def unwrap(value: ast.expr) -> ast.expr:
    """``resnet50().to(device)`` and ``.cuda()``/``.eval()``... are the module itself, as is
    ``CNN().cuda() if use_cuda else CNN()`` (the same module either way), and a model built
    inside its data-parallel wrapper, ``nn.DataParallel(Net())`` (its mode and parameters
    are the model's), ``torch.compile(model)`` and ``typing.cast(nn.Module, model)``."""
    while True:
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in MODULE_RETURNING:
            value = value.func.value
        elif (isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Call)
              and (dotted(value.func) or "").rpartition(".")[2] in PARALLEL_WRAPPERS):
            value = value.args[0]
        elif isinstance(value, ast.Call) and len(value.args) == 1 and dotted(value.func) == "torch.compile":
            value = value.args[0]  # torch.compile(model, mode=...): its train()/eval() and parameters are the model's
        elif (isinstance(value, ast.Call) and len(value.args) == 2 and not value.keywords
              and dotted(value.func) in ("cast", "typing.cast")):
            value = value.args[1]  # return cast(nn.Module, model): the model itself
        elif isinstance(value, ast.IfExp) and ast.dump(unwrap(value.body)) == ast.dump(unwrap(value.orelse)):
            value = value.orelse
        else:
            return value
