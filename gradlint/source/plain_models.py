"""Models a file trains that hold no recurrent layer (GL201): built beside the training loop
from torch.nn layers and plain classes of the file only, or handed to a generic training
helper that no call gives a recurrent model. Read statically, never imported."""

from __future__ import annotations

import ast
import re
from typing import Callable, Iterator, Optional

from gradlint.source.names import dotted
from gradlint.source.nodes import Located, contains
from gradlint.source.recurrent import RECURRENT_QUALIFIED, RecurrentEvidence, qualified_name

_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")  # torch.nn callables built from modules



def trains_plain_local_model(
    tree: ast.Module, scope: Located, model: str, aliases: dict[str, str], known: dict[str, RecurrentEvidence],
    project_classes: frozenset[str] = frozenset(),
) -> bool:
    """Whether ``model``, trained in ``scope``, is built beside it (in the function that
    holds the scope, else at module level) from known non-recurrent parts only
    (``net = nn.Sequential(nn.Linear(5, 1)).to(device)``): torch.nn layers other than
    the recurrent ones, and classes of the file that build no recurrent layer. A wrapper
    or container handed another model (``nn.DataParallel(model)``, ``nn.Sequential(encoder)``),
    or a class of the file handed a name, is plain only when what it is handed is known
    plain itself (or a plain value such as ``hidden = 64``)."""
    if "." in model:
        return False
    functions = [
        node for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and contains(node, scope)
    ]
    where: ast.AST = functions[-1] if functions else tree
    local_classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)} | (project_classes - set(known))
    return _Plain(tree, where, aliases, known, local_classes).model(model, frozenset())


class _Plain:
    def __init__(self, tree, where, aliases, known, local_classes) -> None:
        self.tree, self.where, self.aliases, self.known, self.local_classes = tree, where, aliases, known, local_classes

    def values(self, name: str) -> Optional[list[ast.expr]]:
        """What ``name`` is assigned where the model is built, else at module level; None
        for a parameter of that function (whatever the caller hands in)."""
        arguments = getattr(self.where, "args", None)
        if arguments is not None:
            every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs + [arguments.vararg, arguments.kwarg]
            if any(a is not None and a.arg == name for a in every):
                return None
        local = _assigned(ast.walk(self.where), name)
        if local or self.where is self.tree:
            return local
        return _assigned(_module_level(self.tree), name)

    def model(self, name: str, seen: frozenset) -> bool:
        if name in seen:
            return True  # `net = nn.DataParallel(net)`: the name's other assignments decide
        values = self.values(name)
        if not values:
            return False
        if all(any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(v)) for v in values):
            return False  # only ever rebuilt from itself: where it first comes from is not seen
        for value in values:
            if not isinstance(value, ast.Call):
                return False
            for call in (sub for sub in ast.walk(value) if isinstance(sub, ast.Call)):
                if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Call):
                    continue  # .to(device), .double(): a method of the model just built
                qualified, local = qualified_name(call.func, self.aliases) or "", dotted(call.func) or ""
                if qualified in RECURRENT_QUALIFIED or local in self.known:
                    return False
                if not (qualified.startswith("torch.nn.") or local in self.local_classes):
                    return False  # built by something we cannot see into
                for argument in _module_arguments(call, qualified, local in self.local_classes):
                    handed = argument.value if isinstance(argument, ast.Starred) else argument
                    if isinstance(handed, ast.Name) and not self.is_value(handed.id) and not self.model(
                        handed.id, seen | {name}
                    ):
                        return False  # handed a model we do not know to be plain
        return True

    def is_value(self, name: str) -> bool:
        """``name`` holds a plain value (``hidden = 64``): assigned, never from a call."""
        values = self.values(name)
        return values is not None and bool(values) and not any(
            isinstance(sub, ast.Call) for v in values for sub in ast.walk(v))


def _assigned(nodes: Iterator[ast.AST], name: str) -> list[ast.expr]:
    return [node.value for node in nodes if isinstance(node, ast.Assign) and any(dotted(t) == name for t in node.targets)]


def _module_level(tree: ast.Module) -> Iterator[ast.AST]:
    """The module's own statements (in ``if``/``with``/loops too), not those of its functions and classes."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            yield node
            pending.extend(ast.iter_child_nodes(node))


def _module_arguments(call: ast.Call, qualified: str, local_class: bool) -> list[ast.expr]:
    """The arguments of ``call`` that may be modules: all of them for a class of the file,
    the wrapped module of ``nn.DataParallel``/``nn.parallel.*``, the parts of a container;
    none for a layer built from sizes (``nn.Linear(hidden, 1)``)."""
    last = qualified.rsplit(".", 1)[-1]
    if local_class or last in _CONTAINERS:
        return list(call.args) + [keyword.value for keyword in call.keywords]
    if last.endswith("DataParallel") or qualified.startswith("torch.nn.parallel."):
        return call.args[:1] + [keyword.value for keyword in call.keywords if keyword.arg == "module"]
    return []


def builds_layers(owner: ast.ClassDef, qualify: Callable[[ast.AST], Optional[str]], local_classes: set[str]) -> bool:
    """Whether the class builds its network itself (a wrapper handed its model may train an RNN)."""
    for node in ast.walk(owner):
        if isinstance(node, ast.Call):
            callee = qualify(node.func) or ""
            if callee.startswith("torch.nn.") or callee in local_classes:
                return True
    return False


# a function or parameter name that says the model is a sequence model
_SEQUENCE_WORDS = re.compile(r"rnn|lstm|gru|recurr|seq|lang|char|text|token", re.IGNORECASE)


def handed_model_unknown(
    tree: ast.Module, scope: Located, model: str, aliases: dict[str, str], known: dict[str, RecurrentEvidence]
) -> bool:
    """Whether the loop trains a parameter of its function (``def train_ch6(net, ...)``)
    that no call in the file hands a recurrent model, in a function whose names say
    nothing of sequences: a generic training helper of a file that also defines an RNN
    trains whatever its callers pass, and nothing here says that is the RNN."""
    holders = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and contains(node, scope)]
    if not holders:
        return False
    function = holders[-1]
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    params = params[1:] if params[:1] in (["self"], ["cls"]) else params
    keyword_only = [a.arg for a in function.args.kwonlyargs]
    if model not in params + keyword_only or _SEQUENCE_WORDS.search(function.name) or _SEQUENCE_WORDS.search(model):
        return False
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and (dotted(call.func) or "").rsplit(".", 1)[-1] == function.name):
            continue
        handed = [k.value for k in call.keywords if k.arg == model]
        if model in params and params.index(model) < len(call.args):
            handed.append(call.args[params.index(model)])
        if any(_recurrent_value(value, tree, aliases, known) for value in handed):
            return False
    return True


def _recurrent_value(value: ast.expr, tree: ast.Module, aliases: dict[str, str], known: dict[str, RecurrentEvidence]) -> bool:
    """A recurrent layer or model: built right there, or a name assigned one anywhere in the file."""
    values = _assigned(ast.walk(tree), value.id) if isinstance(value, ast.Name) else [value]
    for candidate in values:
        for call in (node for node in ast.walk(candidate) if isinstance(node, ast.Call)):
            if (qualified_name(call.func, aliases) or "") in RECURRENT_QUALIFIED or (dotted(call.func) or "") in known:
                return True
    return False
