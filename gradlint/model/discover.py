"""Model candidates, found without running anything.

Python's ``ast`` (not libcst: about a fifth of the cost, and it carries positions) finds
in each file the ``nn.Module`` subclasses (directly or through project-local bases,
under any import alias; ``LightningModule`` too) whose constructor needs no argument,
and the module-level zero-argument factories (``build``, ``build_model``, ``get_model``,
``create_model``, ``make_model`` or a ``-> nn.Module`` annotation). Config entries
(``[[tool.gradlint.models]]``) and ``--model FILE:CALLABLE`` add models that need
arguments. Nothing here imports user code.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from gradlint.source.names import collect_aliases, qualify

FACTORY_NAMES = frozenset({"build", "build_model", "get_model", "create_model", "make_model"})
# torch.nn classes whose subclasses can be built without arguments when they add no __init__
_ZERO_ARG_TORCH_BASES = frozenset({"Module", "Sequential", "ModuleList", "ModuleDict", "LightningModule"})
_NOT_MODULES = frozenset({"Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"})
_LIGHTNING = ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning.pytorch.core")
# a file can define a model only if one of these appears in it
_MARKERS = ("Module", "nn.", "torch", "def build", "def get_model", "def create_model", "def make_model")


@dataclass
class Candidate:
    """One model to build: ``callable`` in ``file`` (a class or a factory)."""

    file: str  # absolute path
    shown: str  # the path shown to the user
    callable: str
    kind: str  # class | factory | config | cli
    line: int
    column: int = 1
    kwargs: dict[str, Any] = field(default_factory=dict)
    input: Any = None  # an input spec string or list, or None
    name: str = ""  # display name
    index: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> tuple[str, str]:
        return (self.file, self.callable)


@dataclass
class _ClassInfo:
    name: str
    line: int
    column: int
    bases: list[str]  # qualified names
    init_zero_arg: Optional[bool]  # None: no own __init__


def _zero_arg(function: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> bool:
    args = function.args
    positional = args.posonlyargs + args.args
    if method:
        positional = positional[1:]
    required = len(positional) - len(args.defaults)
    required_kw = sum(1 for default in args.kw_defaults if default is None)
    return required <= 0 and required_kw == 0


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
        self.module_classes: set[str] = set()
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
                )
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
        # a script that trains when imported (module-level backward(), trainer.fit()):
        # importing it to build a model would start the training run itself
        self.trains_on_import = any(_trains(node) for node in tree.body if not _is_definition_or_main(node))

    def qualify(self, node: ast.AST) -> Optional[str]:
        return qualify(node, self.aliases)


def _parse(path: Path) -> Optional[ast.Module]:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    if not any(marker in text for marker in _MARKERS):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # GL001 reports it


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


def _trains(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
            method = sub.func.attr
            if method in ("backward", "manual_backward"):
                return True
            receiver = ast.unparse(sub.func.value).lower() if method in ("fit", "train") else ""
            if "trainer" in receiver:
                return True
    return False


def _constructible(info: _ClassInfo, modules: dict[str, tuple[_FileFacts, _ClassInfo]], seen: frozenset = frozenset()) -> bool:
    if info.init_zero_arg is not None:
        return info.init_zero_arg
    for base in info.bases:
        last = base.rpartition(".")[2]
        if _is_torch_module_base(base):
            return last in _ZERO_ARG_TORCH_BASES
        if last in modules and last not in seen:
            return _constructible(modules[last][1], modules, seen | {info.name})
    return False


def discover_candidates(
    files: Sequence[tuple[Path, str]],
    config_models: Sequence[dict[str, Any]] = (),
    cli_models: Sequence[str] = (),
    cli_input: Any = None,
    root: Optional[Path] = None,
) -> list[Candidate]:
    """The models of a run, in file order; config and --model entries override found ones."""
    facts = [f for f in (_facts(path, shown) for path, shown in files) if f is not None]
    modules = _module_classes(facts)
    found: dict[tuple[str, str], Candidate] = {}
    for file in facts:
        if file.trains_on_import:
            continue  # only a config entry or --model builds a model from such a script
        real = str(file.path.resolve())
        for info in file.classes.values():
            if info.name in file.module_classes and _constructible(info, modules):
                found[(real, info.name)] = Candidate(real, file.shown, info.name, "class", info.line, info.column)
        for name, function in file.functions.items():
            returns = file.qualify(function.returns) if function.returns is not None else None
            returns_module = returns is not None and (_is_torch_module_base(returns) or returns.rpartition(".")[2] in modules)
            if (name in FACTORY_NAMES or returns_module) and _zero_arg(function, method=False):
                found[(real, name)] = Candidate(real, file.shown, name, "factory", function.lineno, function.col_offset + 1)
    shown_by_real = {str(f.path.resolve()): f.shown for f in facts}
    shown_by_real.update({str(p.resolve()): s for p, s in files})
    base = root or Path.cwd()
    for entry in config_models:
        file_part, _, name = entry["entry"].rpartition(":")
        real = str((base / file_part).resolve())
        if real not in shown_by_real:
            continue  # configured for a file outside this run
        found[(real, name)] = _explicit(real, shown_by_real[real], name, "config", found.get((real, name)), entry)
    for spec in cli_models:
        file_part, _, name = spec.rpartition(":")
        path = Path(file_part)
        real = str(path.resolve())
        shown = shown_by_real.get(real, _shown(path))
        entry = {"input": cli_input} if cli_input is not None else {}
        found[(real, name)] = _explicit(real, shown, name, "cli", found.get((real, name)), entry)
    candidates = list(found.values())
    if cli_input is not None:
        for candidate in candidates:
            if candidate.input is None:
                candidate.input = cli_input
    counts: dict[str, int] = {}
    for candidate in candidates:
        counts[candidate.name or candidate.callable] = counts.get(candidate.name or candidate.callable, 0) + 1
    for index, candidate in enumerate(candidates):
        candidate.index = index
        if not candidate.name:
            plain = candidate.callable
            candidate.name = plain if counts[plain] == 1 else f"{candidate.shown}:{plain}"
    return candidates


def _explicit(real: str, shown: str, name: str, kind: str, known: Optional[Candidate], entry: dict[str, Any]) -> Candidate:
    line, column = (known.line, known.column) if known else _definition_line(Path(real), name)
    return Candidate(
        real, shown, name, kind, line, column,
        kwargs=dict(entry.get("kwargs", {})), input=entry.get("input"), name=entry.get("name", ""),
    )


def _definition_line(path: Path, name: str) -> tuple[int, int]:
    """Where ``name`` (possibly ``Outer.inner``) is defined in ``path``; (1, 1) if unknown."""
    tree = _parse(path)
    head = name.split(".")[0]
    for node in tree.body if tree else []:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == head:
            return node.lineno, node.col_offset + 1
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == head for t in node.targets):
            return node.lineno, node.col_offset + 1
    return 1, 1


def _facts(path: Path, shown: str) -> Optional[_FileFacts]:
    tree = _parse(path)
    return _FileFacts(path, shown, tree) if tree is not None else None


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
