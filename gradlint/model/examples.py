"""Models that a zero-argument function (pytorch-cifar's ``test()``) builds from literals
and calls on a literal tensor: the input joins the candidate built the same way, else
the call is a candidate of its own (used by ``discover``; the reading is ``constructors``)."""

from __future__ import annotations

import ast
from typing import Any, Optional

from gradlint.model.constructors import examples
from gradlint.model.entries import Candidate


def with_batch(spec: str, batch: int) -> str:
    """An example's input spec with at least ``batch`` samples: ``test()`` calls a model on
    one or two images, and a ReLU unit is "dead" on such a batch half the time."""
    dtype, _, rest = spec.partition("[")
    shape, _, tail = rest.partition("]")
    dims = shape.split(",")
    if dims and dims[0].strip().isdigit() and int(dims[0]) < batch:
        dims[0] = str(batch)
    return f"{dtype}[{','.join(dims)}]{tail}"


def zero_arg(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = function.args
    required = len(args.posonlyargs + args.args) - len(args.defaults)
    return required <= 0 and all(default is not None for default in args.kw_defaults)


def trains(node: ast.AST) -> bool:
    """A ``backward()``/``manual_backward()`` call or a trainer's ``fit``/``train`` in ``node``."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            method = sub.func.attr
            if method in ("backward", "manual_backward"):
                return True
            receiver = ast.unparse(sub.func.value).lower() if method in ("fit", "train") else ""
            if "trainer" in receiver:
                return True
    return False


def add_examples(file: Any, found: list[Candidate], factories: dict[str, str]) -> None:
    """Models that a zero-argument function builds from literals and calls on a literal
    tensor: the input joins the candidate built the same way, else a new candidate."""
    real = str(file.path.resolve())

    def maker(node: ast.AST) -> Optional[str]:
        if isinstance(node, ast.Name) and (node.id in factories or (node.id in file.module_classes)):
            return node.id
        return None

    def torch_name(node: ast.AST) -> Optional[str]:
        return file.qualify(node)

    for function in file.functions.values():
        if not zero_arg(function) or function.name in factories or trains(function):
            continue
        for example in examples(function, maker, torch_name):
            same = next((c for c in found if c.callable == example.constructor and c.args == example.args
                         and c.kwargs == example.kwargs and not c.needs), None)
            if same is not None:
                if same.input is None and example.spec:
                    same.input, same.example_input = example.spec, True
                continue
            if example.constructor in factories and (example.args or example.kwargs):
                continue  # a zero-argument factory given arguments: not ours to guess
            definition = file.classes.get(example.constructor) or file.functions.get(example.constructor)
            line = int(getattr(definition, "line", None) or getattr(definition, "lineno", None) or example.line)
            column = int(getattr(definition, "column", None) or getattr(definition, "col_offset", 0) + 1)
            found[:] = [c for c in found if not (c.callable == example.constructor and c.needs)]
            found.append(Candidate(real, file.shown, example.constructor, "example", line, column,
                                   args=example.args, kwargs=example.kwargs, input=example.spec,
                                   example_input=example.spec is not None))
