"""Is the model a file trains recurrent? Read statically, never imported.

A model is recurrent when ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (or their cells) is built
in the file itself, or by a class or function the file imports from a project-local
module (a ``.py`` file found next to the script or in a folder above it, followed a
few imports deep). Nothing is executed, and site-packages are never read: a local
module is only a file that exists under the script's own folders.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

from gradlint.source.index import FileIndex
from gradlint.source.switched_builders import Switch, switch_guarded, switched_on
from gradlint.source.names import collect_aliases, dotted
from gradlint.source.parameter_defaults import parameter_defaults

RECURRENT_LAYERS = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")
RECURRENT_QUALIFIED = {
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
                 matches: Callable[[str], bool] = RECURRENT_QUALIFIED.__contains__) -> None:
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


def qualified_name(node: ast.AST, aliases: dict[str, str]) -> Optional[str]:
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
    matches: Callable[[str], bool] = RECURRENT_QUALIFIED.__contains__,
) -> Optional[RecurrentEvidence]:
    for base in node.bases if isinstance(node, ast.ClassDef) else ():  # class Net(models.Inception3)
        qualified = qualified_name(base, aliases)
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
        qualified = qualified_name(chosen, aliases)
        if qualified and matches(qualified):
            return RecurrentEvidence(qualified.rsplit(".", 1)[-1], str(path), chosen.lineno)
    if isinstance(sub, ast.Subscript) and (table := dotted(sub.value)) is not None and table in known:
        return known[table]  # RNN_TYPES[name]: a table of recurrent classes
    if isinstance(sub, (ast.List, ast.Tuple)):  # [resnet18, resnet50][phi](pretrained): builders picked by index
        listed = [known[name] for elt in sub.elts if (name := dotted(elt)) is not None and name in known]
        if listed:
            return listed[0]
    if isinstance(sub, ast.Call):
        qualified = qualified_name(sub.func, aliases)
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
                named = qualified_name(handed, aliases) if isinstance(handed, (ast.Name, ast.Attribute)) else None
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
