"""Is the model a file trains recurrent? Read statically, never imported.

A model is recurrent when ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (or their cells) is built
in the file itself, or by a class or function the file imports from a project-local
module (a ``.py`` file found next to the script or in a folder above it, followed a
few imports deep). Nothing is executed, and site-packages are never read: a local
module is only a file that exists under the script's own folders.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Optional

from gradlint.source.index import FileIndex
from gradlint.source.switched_builders import Switch, switch_guarded, switched_on
from gradlint.source.names import collect_aliases, dotted
from gradlint.source.parameter_defaults import parameter_defaults
from gradlint.source.nodes import Located, contains

RECURRENT_LAYERS = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")
_RECURRENT_QUALIFIED = {
    f"{prefix}.{layer}" for prefix in ("torch.nn", "torch.nn.modules.rnn") for layer in RECURRENT_LAYERS
}
_MAX_DEPTH = 3  # how many local imports deep to follow
_MAX_FILES = 30  # and how many local files at most per script


@dataclass
class RecurrentEvidence:
    """Where the recurrent layer comes from: the constructor name and its file."""

    layer: str
    path: str
    line: int
    switch: Optional[Switch] = None  # a builder making it only when this parameter is passed on


class _Resolver:
    def __init__(self, script: Path, index: Optional[FileIndex] = None,
                 matches: Callable[[str], bool] = _RECURRENT_QUALIFIED.__contains__) -> None:
        self.matches = matches  # which qualified constructors count (recurrent layers by default)
        self.script = script.resolve()
        self.index = index if index is not None else FileIndex()
        # each module read: the depth it was read at, and what it offers
        self.cache: dict[Path, tuple[int, dict[str, RecurrentEvidence]]] = {}
        self.read = 0

    def module_file(self, module: str, level: int, importer: Path) -> Optional[Path]:
        """The local file for ``module`` imported by the file ``importer``."""
        return self.index.resolve_import(importer, module, level, entry=self.script)

    def recurrent_names(self, path: Path, depth: int) -> dict[str, RecurrentEvidence]:
        """Names defined (or re-exported) by a local module that build a recurrent layer."""
        path = path.resolve()
        if path in self.cache and self.cache[path][0] <= depth:
            return self.cache[path][1]
        # an import cycle back to this module sees what it has bound so far, as Python's does
        # (``models/__init__.py`` imports ``.model``, then ``.trainer``, which imports from ``models``).
        # A module first reached deep (through ``args.py`` -> ``helper.py``) was cut short where its
        # own imports passed the depth limit: reached again nearer the script, it is read again.
        found: dict[str, RecurrentEvidence] = {}
        self.cache[path] = (depth, found)
        if depth > _MAX_DEPTH or self.read >= _MAX_FILES:
            return found
        self.read += 1
        tree = self.index.tree(path)
        if tree is None:
            return found  # unreadable or broken: nothing known from it
        return self.analyse(tree, path, depth, found)

    def analyse(self, tree: ast.Module, path: Path, depth: int,
                known: Optional[dict[str, RecurrentEvidence]] = None) -> dict[str, RecurrentEvidence]:
        """Recurrent names of one module: its own classes/functions and what it imports
        (into ``known``, filled as the module is read)."""
        aliases = collect_aliases(tree)
        known = {} if known is None else known
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or node.module):
                target = self.module_file(node.module or "", node.level, path)
                if target is None:
                    continue
                exported = self.recurrent_names(target, depth + 1)
                for alias in node.names:
                    if alias.name == "*":  # from model import *: every public name it defines
                        known.update((k, v) for k, v in exported.items() if not k.startswith("_") and "." not in k)
                    elif alias.name in exported:
                        known[alias.asname or alias.name] = exported[alias.name]
                    elif target.name == "__init__.py" and (sub := self.module_file(alias.name, 1, target)) is not None:
                        for name, evidence in self.recurrent_names(sub, depth + 1).items():
                            known[f"{alias.asname or alias.name}.{name}"] = evidence
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    target = self.module_file(alias.name, 0, path)
                    if target is not None:
                        local = alias.asname or alias.name
                        for name, evidence in self.recurrent_names(target, depth + 1).items():
                            known[f"{local}.{name}"] = evidence
        for node in tree.body:  # RNN_TYPES = {"lstm": nn.LSTM, ...}: a module-level table of classes
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                table_evidence = _builds_recurrent(node.value, aliases, {}, path, self.matches)
                if table_evidence is not None:
                    known.update((dotted(t) or "", table_evidence) for t in node.targets if dotted(t))
        definitions = {
            node.name: node
            for node in tree.body
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        }
        changed = True
        while changed:  # a class that builds a recurrent class is recurrent too
            changed = False
            for name, node in definitions.items():
                if name not in known:
                    built = _builds_recurrent(node, aliases, known, path, self.matches)
                    if built is not None:
                        known[name] = built
                        changed = True
        return known


def _qualify(node: ast.AST, aliases: dict[str, str]) -> Optional[str]:
    name = dotted(node)
    if name is None:
        return None
    head, _, rest = name.partition(".")
    if head in aliases:
        return f"{aliases[head]}.{rest}" if rest else aliases[head]
    if head == "nn" and rest:
        return f"torch.nn.{rest}"  # snippets and notebooks that elide `from torch import nn`
    return name


def _builds_recurrent(
    node: ast.AST, aliases: dict[str, str], known: dict[str, RecurrentEvidence], path: Path,
    matches: Callable[[str], bool] = _RECURRENT_QUALIFIED.__contains__,
) -> Optional[RecurrentEvidence]:
    for base in node.bases if isinstance(node, ast.ClassDef) else ():  # class Net(models.Inception3)
        qualified = _qualify(base, aliases)
        if qualified and matches(qualified):
            return RecurrentEvidence(qualified.rsplit(".", 1)[-1], str(path), base.lineno)
        if (dotted(base) or "") in known:  # class DBPCL(SimCLR): a project class that builds one
            return known[dotted(base) or ""]
    guarded = switch_guarded(node)
    switched: Optional[RecurrentEvidence] = None  # found only under ``if batch_norm:`` (off by default)
    defaults = _string_defaults(node)
    for sub in ast.walk(node):
        found = _built_at(sub, aliases, known, path, matches, defaults)
        if found is not None and id(sub) in guarded:
            switched = switched or RecurrentEvidence(found.layer, found.path, found.line, guarded[id(sub)])
        elif found is not None:
            return found
    return switched


def _string_defaults(node: ast.AST) -> dict[str, str]:
    """The string defaults of the parameters of the functions in ``node`` (``def
    __init__(self, backbone_name="efficientnet_b0")``), for a name no two of them give apart."""
    found: dict[str, set[str]] = {}
    for function in ast.walk(node):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for name, default in parameter_defaults(function).items():
                if isinstance(default, ast.Constant) and isinstance(default.value, str):
                    found.setdefault(name, set()).add(default.value)
    return {name: values.pop() for name, values in found.items() if len(values) == 1}


def _built_at(sub: ast.AST, aliases: dict[str, str], known: dict[str, RecurrentEvidence], path: Path,
              matches: Callable[[str], bool], defaults: Optional[dict[str, str]] = None) -> Optional[RecurrentEvidence]:
    """What ``sub`` itself builds: a layer ``matches`` accepts, or a known builder's (called
    with its switch on). A model a library builds by name is offered to ``matches`` as
    ``timm:<name>`` (``timm.create_model(backbone_name)``, the name a string or a parameter's
    default in ``defaults``)."""
    for chosen in _chosen_classes(sub):
        # {'lstm': nn.LSTM, 'gru': nn.GRU}[rnn_type] or cell = nn.GRU: a recurrent class picked, then built
        qualified = _qualify(chosen, aliases)
        if qualified and matches(qualified):
            return RecurrentEvidence(qualified.rsplit(".", 1)[-1], str(path), chosen.lineno)
    if isinstance(sub, ast.Subscript) and (table := dotted(sub.value)) is not None and table in known:
        return known[table]  # RNN_TYPES[name]: a table of recurrent classes
    if isinstance(sub, (ast.List, ast.Tuple)):  # [resnet18, resnet50][phi](pretrained): builders picked by index
        listed = [known[name] for elt in sub.elts if (name := dotted(elt)) is not None and name in known]
        if listed:
            return listed[0]
    if isinstance(sub, ast.Call):
        qualified = _qualify(sub.func, aliases)
        if qualified and matches(qualified):
            return RecurrentEvidence(qualified.rsplit(".", 1)[-1], str(path), sub.lineno)
        first = sub.args[0] if sub.args else None
        named_model = (first.value if isinstance(first, ast.Constant) and isinstance(first.value, str)
                       else (defaults or {}).get(first.id) if isinstance(first, ast.Name) else None)
        if qualified in ("timm.create_model", "timm.models.create_model") and named_model \
                and matches(f"timm:{named_model}"):
            return RecurrentEvidence(named_model, str(path), sub.lineno)
        if qualified not in _CLASS_TESTS:  # (``isinstance(m, nn.LSTM)`` names a class it never builds)
            for handed in [*sub.args, *(k.value for k in sub.keywords)]:
                # ``adapt(torchvision.models.resnet50, n)``: a builder handed to a function that calls it
                named = _qualify(handed, aliases) if isinstance(handed, (ast.Name, ast.Attribute)) else None
                if named and "." in named and matches(named):
                    return RecurrentEvidence(named.rsplit(".", 1)[-1], str(path), handed.lineno)
        local = dotted(sub.func)
        if local in known and switched_on(sub, known[local].switch):
            return replace(known[local], switch=None)  # (a builder calling it with the switch on builds it)
    return None


_CLASS_TESTS = frozenset({"isinstance", "issubclass", "type", "getattr", "hasattr", "setattr"})


def _chosen_classes(node: ast.AST) -> list[ast.expr]:
    """Classes named as values, not called: a dict's values, an assignment's or a
    conditional's branches (an isinstance() test names a class without choosing it)."""
    if isinstance(node, ast.Dict):
        return [v for v in node.values if isinstance(v, (ast.Name, ast.Attribute))]
    if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Name, ast.Attribute)):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return [v for v in (node.body, node.orelse) if isinstance(v, (ast.Name, ast.Attribute))]
    return []


def recurrent_names(tree: ast.Module, script: Path, index: Optional[FileIndex] = None) -> dict[str, RecurrentEvidence]:
    """The script's own and imported names (classes, functions) that build a recurrent layer."""
    return _Resolver(script, index).analyse(tree, script.resolve(), 0)


def local_names_building(tree: ast.Module, script: Path, matches: Callable[[str], bool]) -> dict[str, RecurrentEvidence]:
    """The script's own and imported project-local names that build a layer ``matches``
    accepts (by qualified constructor name), e.g. a BatchNorm for GL406."""
    return _Resolver(script, matches=matches).analyse(tree, script.resolve(), 0)


def find_recurrent(
    tree: ast.Module, script: Path, known: Optional[dict[str, RecurrentEvidence]] = None
) -> Optional[RecurrentEvidence]:
    """Evidence that the script builds a recurrent model, or None."""
    if known is None:
        known = recurrent_names(tree, script)
    aliases = collect_aliases(tree)
    local_definitions = {
        node.name for node in tree.body if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    }
    for name, evidence in known.items():
        if name in local_definitions:
            return evidence  # a recurrent model defined in the training script itself
    return _builds_recurrent(tree, aliases, known, script)


_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")  # torch.nn callables built from modules


def imported_project_names(tree: ast.Module, script: Path, index: Optional[FileIndex] = None) -> set[str]:
    """Names imported from the project's own modules (``from x_transformers import
    TransformerWrapper`` beside its source): the resolver read them, so one that is not
    among the recurrent names builds no recurrent layer."""
    resolver = _Resolver(script, index)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or node.module):
            if resolver.module_file(node.module or "", node.level, resolver.script) is not None:
                names.update(alias.asname or alias.name for alias in node.names if alias.name != "*")
    return names


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
                qualified, local = _qualify(call.func, self.aliases) or "", dotted(call.func) or ""
                if qualified in _RECURRENT_QUALIFIED or local in self.known:
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
            if (_qualify(call.func, aliases) or "") in _RECURRENT_QUALIFIED or (dotted(call.func) or "") in known:
                return True
    return False
