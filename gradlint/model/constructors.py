"""How a model is built, read from the source without running it (used by ``discover``).

- :func:`returned_class`: the module class a function returns, from its ``return``
  statements (``return ResNet(BasicBlock, [2, 2, 2, 2])``, or a name assigned from
  such a call first), whatever the function is called;
- :func:`examples`: what a zero-argument function such as pytorch-cifar's ``test()``
  builds and calls on a tensor made from literals (``net = VGG('VGG11')``,
  ``x = torch.randn(2, 3, 32, 32)``, ``net(x)``): the constructor, its literal
  arguments and the input spec;
- :func:`defaulted_classes`: classes every field of which has a default (a dataclass,
  a ``NamedTuple``, or a class whose ``__init__`` needs no argument): config objects
  that can be built as they are (nanoGPT's ``GPTConfig``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable, Optional

_TENSOR_MAKERS = {"randn": "float32", "rand": "float32", "zeros": "float32", "ones": "float32", "empty": "float32"}
_CONFIG_SUFFIXES = ("Config", "Cfg", "Args", "Options", "Params", "Hparams", "HParams", "Settings")


@dataclass
class Example:
    """``constructor(*args, **kwargs)`` called on an input of ``spec`` in ``function``."""

    function: str
    constructor: str
    args: list[Any]
    kwargs: dict[str, Any]
    spec: Optional[str]
    line: int


def _own_statements(function: ast.AST) -> list[ast.AST]:
    """The nodes of a function body, nested functions and classes left out."""
    found: list[ast.AST] = []
    stack = list(getattr(function, "body", []))
    while stack:
        node = stack.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(child)
    return found


def _assigned_calls(nodes: list[ast.AST]) -> dict[str, ast.Call]:
    calls: dict[str, ast.Call] = {}
    for node in nodes:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    calls[target.id] = node.value
    return calls


def returned_class(function: ast.AST, is_module: Callable[[ast.AST], Optional[str]]) -> Optional[tuple[str, bool]]:
    """The module class (its name as ``is_module`` gives it) every ``return`` of
    ``function`` builds, and whether every one calls it without arguments; None if
    any return gives something else."""
    nodes = _own_statements(function)
    assigned = _assigned_calls(nodes)
    found: Optional[str] = None
    bare = True
    returns = [n for n in nodes if isinstance(n, ast.Return)]
    for node in returns:
        value = node.value
        if isinstance(value, ast.Name) and value.id in assigned:
            value = assigned[value.id]
        name = is_module(value.func) if isinstance(value, ast.Call) else None
        if name is None:
            return None
        found = found or name
        bare = bare and isinstance(value, ast.Call) and not value.args and not value.keywords
    return (found, bare) if found else None


def literal(node: ast.AST) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _input_spec(call: ast.Call, torch_name: Callable[[ast.AST], Optional[str]]) -> Optional[str]:
    """``torch.randn(2, 3, 32, 32)`` or ``torch.zeros((1, 8))`` as ``float32[2,3,32,32]``."""
    qualified = torch_name(call.func) or ""
    head, _, maker = qualified.rpartition(".")
    if head != "torch":
        return None
    if maker == "randint":
        values = [literal(a) for a in call.args]
        if not all(ok for ok, _ in values) or len(values) not in (2, 3):
            return None
        numbers = [v for _, v in values]
        low, high, ids = (0, numbers[0], numbers[1]) if len(numbers) == 2 else numbers
        if not isinstance(ids, (tuple, list)) or not all(isinstance(d, int) for d in ids):
            return None
        return f"int64[{','.join(str(d) for d in ids)}]({low},{high})"
    if maker not in _TENSOR_MAKERS:
        return None
    shape: Any = []
    for argument in call.args:
        ok, value = literal(argument)
        if not ok:
            return None
        shape.extend(value if isinstance(value, (tuple, list)) else [value])
    if not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        return None
    return f"{_TENSOR_MAKERS[maker]}[{','.join(str(d) for d in shape)}]"


def examples(function: ast.FunctionDef | ast.AsyncFunctionDef, is_module_maker: Callable[[ast.AST], Optional[str]],
             torch_name: Callable[[ast.AST], Optional[str]]) -> list[Example]:
    """The models ``function`` builds from literal arguments and calls on a literal tensor
    (``net = VGG('VGG11'); x = torch.randn(2, 3, 32, 32); y = net(x)``); a model it
    builds but never calls on such a tensor comes without a spec."""
    nodes = _own_statements(function)
    assigned = _assigned_calls(nodes)
    models: dict[str, Example] = {}
    for name, call in assigned.items():
        constructor = is_module_maker(call.func)
        if constructor is None:
            continue
        args = [literal(a) for a in call.args if not isinstance(a, ast.Starred)]
        kwargs = {k.arg: literal(k.value) for k in call.keywords if k.arg is not None}
        if len(args) != len(call.args) or len(kwargs) != len(call.keywords) or not all(ok for ok, _ in args) \
                or not all(ok for ok, _ in kwargs.values()):
            continue  # built from computed values: not an example we can repeat
        models[name] = Example(function.name, constructor, [v for _, v in args],
                               {k: v for k, (_, v) in kwargs.items()}, None, call.lineno)
    specs = {name: _input_spec(call, torch_name) for name, call in assigned.items()}
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in models and node.args:
            first = node.args[0]
            spec = specs.get(first.id) if isinstance(first, ast.Name) else (
                _input_spec(first, torch_name) if isinstance(first, ast.Call) else None)
            if spec and len(node.args) == 1 and not node.keywords:
                models[node.func.id].spec = spec
    return list(models.values())


def defaulted_classes(tree: ast.Module) -> dict[str, int]:
    """Classes of ``tree`` that can be built with no argument and hold only settings
    (dataclasses, NamedTuples, plain classes with a zero-argument ``__init__`` or only
    class attributes), by name with their line. nn.Module subclasses are left to the caller."""
    found: dict[str, int] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = [s for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
        init = next((s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
        if init is not None:
            args = init.args
            required = len(args.posonlyargs + args.args) - 1 - len(args.defaults)
            if required <= 0 and all(d is not None for d in args.kw_defaults):
                found[node.name] = node.lineno
        elif all(s.value is not None for s in fields) and (fields or any(isinstance(s, ast.Assign) for s in node.body)):
            found[node.name] = node.lineno
    return found


def config_class_for(owner: str, parameter: str, annotation: Optional[str], defaulted: dict[str, int]) -> Optional[str]:
    """The config class a model class's one required parameter takes: the annotated one
    when it has every default, else the file's one settings class named like a config
    (``GPTConfig`` for ``GPT(config)``; ``<Owner>Config`` first when there are several)."""
    if annotation is not None:
        last = annotation.rpartition(".")[2]
        return last if last in defaulted else None
    if parameter.lower() not in ("config", "cfg", "conf", "args", "hparams", "params", "options", "settings", "opt"):
        return None
    named = [name for name in defaulted if name.endswith(_CONFIG_SUFFIXES)]
    own = [name for name in named if name.lower().startswith(owner.lower())]
    if len(own) == 1:
        return own[0]
    return named[0] if len(named) == 1 else None
