"""Model candidates, found without running anything.

Python's ``ast`` (not libcst: about a fifth of the cost, and it carries positions) finds
in each file what a person would call its models:

- ``nn.Module`` subclasses (directly or through project-local bases, under any import
  alias; ``LightningModule`` too) whose constructor needs no argument, or only a config
  object whose class has a default for every field (``GPT(GPTConfig())``, see
  ``constructors``);
- module-level functions that need no argument and return a module (by their return
  statements, whatever their name, or a ``-> nn.Module`` annotation, or the names
  ``build``, ``build_model``, ...);
- the model a zero-argument function such as ``test()`` builds from literals and calls
  on a literal tensor, with that tensor as its input.

A module built inside another module class, handed to a constructor (``ResNet(BasicBlock,
...)``) or subclassed is a part, not a model; a class and the zero-argument factory that
returns it built without arguments are one model (the factory's). A class that needs
arguments nothing supplies is kept with ``needs`` set, for the report to say which
``[[tool.gradlint.models]]`` entry to add. Config entries and ``--model FILE:CALLABLE``
replace what was found for their callable. Nothing here imports user code.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from gradlint.model.entries import Candidate, name_candidates, with_config  # noqa: F401 - Candidate re-exported
from gradlint.model.constructors import config_class_for, defaulted_classes, returned_class
from gradlint.model.examples import add_examples, trains
from gradlint.source.index import FileIndex
from gradlint.source.names import collect_aliases, qualify

FACTORY_NAMES = frozenset({"build", "build_model", "get_model", "create_model", "make_model"})
# torch.nn classes whose subclasses can be built without arguments when they add no __init__
_ZERO_ARG_TORCH_BASES = frozenset({"Module", "Sequential", "ModuleList", "ModuleDict", "LightningModule"})
_NOT_MODULES = frozenset({"Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"})
_LIGHTNING = ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning.pytorch.core")
_INSPECTING_BUILTINS = frozenset({"super", "isinstance", "issubclass", "type", "print", "repr", "str", "id",
                                  "hasattr", "getattr", "setattr", "vars", "dir"})
# a file can define a model only if one of these appears in it
_MARKERS = ("Module", "nn.", "torch", "def build", "def get_model", "def create_model", "def make_model")


@dataclass
class _ClassInfo:
    name: str
    line: int
    column: int
    bases: list[str]  # qualified names
    init_zero_arg: Optional[bool]  # None: no own __init__
    required: list[str] = field(default_factory=list)  # required __init__ parameters
    annotation: Optional[str] = None  # the annotation of the one required parameter
    forwards: bool = False  # __init__ takes *args or **kwargs (handed on to a base, usually)


def _zero_arg(function: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> bool:
    args = function.args
    positional = args.posonlyargs + args.args
    if method:
        positional = positional[1:]
    required = len(positional) - len(args.defaults)
    required_kw = sum(1 for default in args.kw_defaults if default is None)
    return required <= 0 and required_kw == 0


def _required(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The parameters of a method that have no default (``self`` left out)."""
    args = function.args
    positional = (args.posonlyargs + args.args)[1:]
    names = [a.arg for a in positional[:len(positional) - len(args.defaults)]]
    return names + [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]


def _annotation(function: ast.FunctionDef | ast.AsyncFunctionDef, facts: "_FileFacts") -> Optional[str]:
    required = _required(function)
    if len(required) != 1:
        return None
    argument = next(a for a in function.args.posonlyargs + function.args.args + function.args.kwonlyargs if a.arg == required[0])
    note = argument.annotation
    if isinstance(note, ast.Constant) and isinstance(note.value, str):
        return note.value
    return facts.qualify(note) if note is not None else None


def _is_torch_module_base(qualified: str) -> bool:
    head, _, last = qualified.rpartition(".")
    if last == "LightningModule":
        return True
    if not head:
        return False
    return (head.startswith("torch.nn") or head == "nn") and last[:1].isupper() and last not in _NOT_MODULES


class _FileFacts:
    def __init__(self, path: Path, shown: str, tree: ast.Module) -> None:
        self.path, self.shown = path, shown
        aliases = collect_aliases(tree)
        self.classes: dict[str, _ClassInfo] = {}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.aliases = aliases
        self.tree = tree
        self.module_classes: set[str] = set()
        self.defaulted = defaulted_classes(tree)
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                bases = [self.qualify(base) for base in node.bases]
                init = next(
                    (s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == "__init__"),
                    None,
                )
                self.classes[node.name] = _ClassInfo(
                    node.name, node.lineno, node.col_offset + 1, [b for b in bases if b],
                    None if init is None else _zero_arg(init, method=True),
                    _required(init) if init is not None else [],
                    _annotation(init, self) if init is not None else None,
                    init is not None and (init.args.vararg is not None or init.args.kwarg is not None),
                )
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
        # a script that trains when imported (module-level backward(), trainer.fit()):
        # importing it to build a model would start the training run itself
        self.trains_on_import = any(trains(node) for node in tree.body if not _is_definition_or_main(node))

    def qualify(self, node: ast.AST) -> Optional[str]:
        return qualify(node, self.aliases)


def _parse(path: Path, index: FileIndex) -> Optional[ast.Module]:
    file = index.read(path)
    if file.error is not None or not any(marker in file.text for marker in _MARKERS):
        return None  # unreadable or undecodable: GL001 names the file
    return index.tree(path)  # None on a syntax error: GL001 reports it


def _module_classes(facts: list[_FileFacts]) -> dict[str, tuple[_FileFacts, _ClassInfo]]:
    """Every class of the run that is an nn.Module, by simple name (fixpoint over bases).

    Bases are matched by their last name: a project-local base imported under any
    module path still counts."""
    modules: dict[str, tuple[_FileFacts, _ClassInfo]] = {}
    keys: set[tuple[int, str]] = set()
    changed = True
    while changed:
        changed = False
        for file in facts:
            for info in file.classes.values():
                if (id(file), info.name) in keys:
                    continue
                if any(_is_torch_module_base(b) or b.rpartition(".")[2] in modules for b in info.bases):
                    keys.add((id(file), info.name))
                    modules.setdefault(info.name, (file, info))
                    changed = True
    for file in facts:
        file.module_classes = {name for (fid, name) in keys if fid == id(file)}
    return modules


def _is_definition_or_main(node: ast.stmt) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
        return True
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
    )


def _library_model(qualified: str) -> bool:
    """A model class or builder of a model library (``transformers.GPT2LMHeadModel``,
    ``timm.create_model``, ``torchvision.models.resnet18``)."""
    head, _, last = qualified.rpartition(".")
    if head.startswith("transformers") or head.startswith("diffusers"):
        return last[:1].isupper() and ("Model" in last or "For" in last or "Transformer" in last)
    return qualified == "timm.create_model" or head.startswith(("timm.models", "torchvision.models"))


def _init_needs(info: _ClassInfo, modules: dict[str, tuple[_FileFacts, _ClassInfo]],
                seen: frozenset = frozenset()) -> Optional[tuple[list[str], Optional[str]]]:
    """The required parameters of the class's effective ``__init__`` and the annotation
    of a lone one; None when unknown (a torch layer subclassed without an own __init__)."""
    if info.init_zero_arg is not None and not (info.forwards and info.init_zero_arg):
        return info.required, info.annotation
    for base in info.bases:  # no own __init__, or one that hands *args/**kwargs to its base
        last = base.rpartition(".")[2]
        if _is_torch_module_base(base):
            return ([], None) if last in _ZERO_ARG_TORCH_BASES else None
        if last in modules and last not in seen:
            return _init_needs(modules[last][1], modules, seen | {info.name})
    return (info.required, info.annotation) if info.init_zero_arg is not None else None


def _run_parts(facts: list[_FileFacts], modules: dict[str, tuple[_FileFacts, _ClassInfo]]) -> set[str]:
    """Module classes that are parts of others: built inside another module class, or
    a base class of one (an abstract base is no model of its own)."""
    parts: set[str] = set()
    for file in facts:
        for call in (n for n in ast.walk(file.tree) if isinstance(n, ast.Call)):
            if isinstance(call.func, ast.Name) and call.func.id in _INSPECTING_BUILTINS:
                continue  # super(Net, self), isinstance(m, Net): the class is not handed on
            # a block class handed to a constructor: ResNet(BasicBlock, [2, 2, 2, 2]), norm_layer=FrozenBN
            for value in [*call.args, *(k.value for k in call.keywords)]:
                name = file.qualify(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
                if name and name.rpartition(".")[2] in modules:
                    parts.add(name.rpartition(".")[2])
        for node in file.tree.body:
            if not isinstance(node, ast.ClassDef) or node.name not in file.module_classes:
                continue
            for base in file.classes[node.name].bases:
                parts.add(base.rpartition(".")[2])
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call):
                    name = file.qualify(sub.func)
                    last = name.rpartition(".")[2] if name else None
                    if last in modules and last != node.name:
                        parts.add(last)
    return parts


def _file_candidates(file: _FileFacts, modules: dict[str, tuple[_FileFacts, _ClassInfo]], parts: set[str],
                     defaulted: dict[str, tuple[_FileFacts, int]], base: Path) -> list[Candidate]:
    real = str(file.path.resolve())

    def is_module(node: ast.AST) -> Optional[str]:
        name = file.qualify(node)
        if not name:
            return None
        last = name.rpartition(".")[2]
        return last if last in modules or _is_torch_module_base(name) or _library_model(name) else None

    found: list[Candidate] = []
    factories: dict[str, str] = {}  # zero-argument factory -> the class it returns
    bare_returns: set[str] = set()  # classes some factory returns built without arguments
    for name, function in file.functions.items():
        if not _zero_arg(function, method=False) or trains(function):
            continue
        built = returned_class(function, is_module)
        returns = file.qualify(function.returns) if function.returns is not None else None
        annotated = returns is not None and (_is_torch_module_base(returns) or returns.rpartition(".")[2] in modules)
        if built is None and not (annotated or name in FACTORY_NAMES):
            continue
        if built and built[1] and built[0] in bare_returns:
            continue  # a second factory building the same class the same way: one model, one report
        factories[name] = built[0] if built else (returns or "").rpartition(".")[2]
        if built and built[1]:
            bare_returns.add(built[0])
        found.append(Candidate(real, file.shown, name, "factory", function.lineno, function.col_offset + 1))
    covered = set(factories.values())
    for info in file.classes.values():
        if info.name not in file.module_classes or info.name in parts:
            continue
        needs = _init_needs(info, modules)
        if needs is None:
            continue
        required, annotation = needs
        if not required:
            if info.name not in bare_returns:  # else the factory that returns it is the model
                found.append(Candidate(real, file.shown, info.name, "class", info.line, info.column))
            continue
        settings = {n: l for n, l in file.defaulted.items() if n not in modules}
        if annotation is not None:  # an annotated config class may live in another file of the run
            settings = {**{n: 0 for n in defaulted}, **settings}
        config = config_class_for(info.name, required[0], annotation, settings) if len(required) == 1 else None
        if config is not None:
            where, _ = defaulted[config] if config not in file.defaulted and config in defaulted else (file, 0)
            relative = os.path.relpath(str(where.path.resolve()), str(base.resolve())).replace(os.sep, "/")
            found.append(Candidate(real, file.shown, info.name, "class", info.line, info.column,
                                   kwargs={required[0]: {"__class__": f"{relative}:{config}"}}))
        elif info.name not in covered:
            found.append(Candidate(real, file.shown, info.name, "class", info.line, info.column, needs=required))
    add_examples(file, found, factories)
    return found


def discover_candidates(
    files: Sequence[tuple[Path, str]],
    config_models: Sequence[dict[str, Any]] = (),
    cli_models: Sequence[str] = (),
    cli_input: Any = None,
    root: Optional[Path] = None,
    index: Optional[FileIndex] = None,
) -> list[Candidate]:
    """The models of a run, in file order; config and --model entries replace found ones.
    Candidates with ``needs`` set are models that cannot be built without arguments:
    reported, never sent to the worker. ``index``: the run's files, read once."""
    index = index if index is not None else FileIndex(root)
    facts = [f for f in (_facts(path, shown, index) for path, shown in files) if f is not None]
    modules = _module_classes(facts)
    base = root or Path.cwd()
    parts = _run_parts(facts, modules)
    defaulted = {name: (f, line) for f in facts for name, line in f.defaulted.items() if name not in modules}
    found = [c for file in facts if not file.trains_on_import
             for c in _file_candidates(file, modules, parts, defaulted, base)]
    shown_by_real = {str(f.path.resolve()): f.shown for f in facts}
    shown_by_real.update({str(p.resolve()): s for p, s in files})
    explicit: list[Candidate] = []
    for entry in config_models:
        file_part, _, name = entry["entry"].rpartition(":")
        real = str((base / file_part).resolve())
        if real not in shown_by_real:
            continue  # configured for a file outside this run
        known = next((c for c in found if c.key == (real, name)), None)
        explicit.append(_explicit(real, shown_by_real[real], name, "config", known, with_config(entry, known), index))
    for spec in cli_models:
        file_part, _, name = spec.rpartition(":")
        path = Path(file_part)
        real = str(path.resolve())
        shown = shown_by_real.get(real, _shown(path))
        entry = {"input": cli_input} if cli_input is not None else {}
        known = next((c for c in found if c.key == (real, name)), None)
        explicit.append(_explicit(real, shown, name, "cli", known, entry, index))
    replaced = {c.key for c in explicit}
    candidates = [c for c in found if c.key not in replaced]
    seen: set[str] = set()
    for candidate in explicit:  # entries are distinct by name, arguments and input
        identity = json.dumps([candidate.key, candidate.name, candidate.args, candidate.kwargs, candidate.input],
                              sort_keys=True, default=str)
        if identity not in seen:
            seen.add(identity)
            candidates.append(candidate)
    if cli_input is not None:
        for candidate in candidates:
            if candidate.input is None:
                candidate.input = cli_input
    name_candidates(candidates)
    return candidates


def _explicit(real: str, shown: str, name: str, kind: str, known: Optional[Candidate], entry: dict[str, Any],
              index: FileIndex) -> Candidate:
    line, column = (known.line, known.column) if known else _definition_line(Path(real), name, index)
    return Candidate(
        real, shown, name, kind, line, column,
        kwargs=dict(entry.get("kwargs", {})), input=entry.get("input"), name=entry.get("name", ""),
        args=list(entry.get("args", [])),
    )


def _definition_line(path: Path, name: str, index: FileIndex) -> tuple[int, int]:
    """Where ``name`` (possibly ``Outer.inner``) is defined in ``path``; (1, 1) if unknown."""
    tree = _parse(path, index)
    head = name.split(".")[0]
    for node in tree.body if tree else []:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == head:
            return node.lineno, node.col_offset + 1
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == head for t in node.targets):
            return node.lineno, node.col_offset + 1
    return 1, 1


def _facts(path: Path, shown: str, index: FileIndex) -> Optional[_FileFacts]:
    tree = _parse(path, index)
    return _FileFacts(path, shown, tree) if tree is not None else None


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
