"""Which optimiser the probe's ``--probe-steps N`` run uses for each model, read
statically from the run's files (main-process side: never imports torch or user code).

``[tool.gradlint.probe] optimizer`` names one (``sgd``, ``adam``, ``adamw``, ``rmsprop``,
``adagrad``; ``lr`` sets its learning rate). With ``"auto"`` (the default), for each model:

1. the ``torch.optim`` optimiser built over the parameters of that model, in a file of
   the run that builds the model (``model = Net(); opt = AdamW(model.parameters())``
   in a script that imports ``Net``'s file, or in ``Net``'s own file);
2. else the one optimiser class built in the files that import the model's file (or in
   the model's own file: a Lightning ``configure_optimizers``);
3. else the one optimiser class built anywhere in the run;
4. else SGD, lr 0.01 (also when the files disagree: guessing would be dishonest).

Only literal keyword arguments (``lr=3e-4`` or a module-level ``LR = 3e-4``) are kept;
anything else takes the optimiser's own default. An optimiser outside ``torch.optim``
(bitsandbytes, a project's own) cannot be built by the probe and is not counted.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from gradlint.source.index import FileIndex
from gradlint.source.optimizer_params import literal, module_constants, read_selection
from gradlint.source.names import Names, dotted

# config spelling -> torch.optim class
CONFIG_NAMES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad"}
TORCH_OPTIMIZERS = frozenset({"SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
                              "ASGD", "Rprop"})
# keyword arguments worth carrying over when they are literals (all plain hyper-parameters)
_KEPT_KEYWORDS = ("lr", "momentum", "weight_decay", "betas", "eps", "alpha", "nesterov", "dampening", "amsgrad")
DEFAULT: dict[str, Any] = {"name": "SGD", "options": {"lr": 0.01}, "source": "default"}


@dataclass
class Built:
    """One ``torch.optim.X(...)`` call in a file of the run."""

    name: str  # the torch.optim class
    options: dict[str, Any]
    shown: str
    line: int
    model_call: Optional[str] = None  # the qualified callee that built the model it optimises
    span: tuple[int, int, int, int] = (0, 1, 0, 2)  # line, column, end line, end column (1-based, end exclusive)
    selection: Optional[dict[str, Any]] = None  # its param groups and freezes (optimizer_params), when read


@dataclass
class _Script:
    path: Path
    shown: str
    imports: list[tuple[int, str]] = field(default_factory=list)  # (relative level, dotted module or name)
    built: list[Built] = field(default_factory=list)


def label(spec: dict[str, Any]) -> str:
    """``AdamW(lr=0.0003) from train.py:12``, ``SGD(lr=0.01) (default)``, ``Adam (config)``."""
    options = spec.get("options") or {}
    text = f"{spec['name']}({', '.join(f'{k}={v}' for k, v in options.items())})" if options else spec["name"]
    source = spec.get("source", "default")
    return f"{text} from {source}" if source not in ("default", "config") else f"{text} ({source})"


def optimizers_for(candidates: Sequence[Any], files: Sequence[tuple[Path, str]], probe: dict[str, Any],
                   index: Optional[FileIndex] = None) -> dict[int, dict[str, Any]]:
    """The optimiser spec (name, options, source) per candidate index; ``index``: the
    run's files as already read (by model discovery), else read here."""
    chosen = str(probe.get("optimizer", "auto"))
    lr = probe.get("lr")
    if chosen != "auto":
        options = {"lr": float(lr)} if lr is not None else {}
        if chosen == "sgd" and not options:
            options = dict(DEFAULT["options"])  # torch's SGD has no useful default rate
        spec = {"name": CONFIG_NAMES[chosen], "options": options, "source": "config"}
        return {c.index: spec for c in candidates}
    index = index if index is not None else FileIndex()
    scripts = [s for s in (_read(path, shown, index) for path, shown in files) if s is not None]
    everywhere = [b for s in scripts for b in s.built]
    answers: dict[int, dict[str, Any]] = {}
    for candidate in candidates:
        model_file = Path(candidate.file).resolve()
        near = [s for s in scripts if s.path.resolve() == model_file or _imports_file(s, model_file, index)]
        tied = [b for s in near for b in s.built if b.model_call and b.model_call.rpartition(".")[2] == candidate.callable]
        built = _one_kind(tied) or _one_kind([b for s in near for b in s.built]) or _one_kind(everywhere)
        if built is None:
            answers[candidate.index] = dict(DEFAULT)
        else:
            options = dict(built.options)
            if lr is not None:
                options["lr"] = float(lr)
            answers[candidate.index] = {"name": built.name, "options": options, "source": f"{built.shown}:{built.line}"}
            if len(tied) == 1 and tied[0].selection is not None:
                # the script's own param groups for this model: the measured GL402-GL405
                answers[candidate.index]["selection"] = {
                    **tied[0].selection, "optimizer": tied[0].name, "options": tied[0].options,
                    "shown": tied[0].shown, "span": list(tied[0].span)}
    return answers


def _one_kind(built: list[Built]) -> Optional[Built]:
    """The first of ``built`` when they are all the same class, else None."""
    return built[0] if built and len({b.name for b in built}) == 1 else None


def _read(path: Path, shown: str, index: FileIndex) -> Optional[_Script]:
    file = index.read(path)
    if file.error is not None or "optim" not in file.text:
        return None  # unreadable (GL001 names it), or builds no optimiser: nothing to associate, no parse to pay
    tree = index.tree(path)
    if tree is None:
        return None
    script = _Script(path, shown, _imports_of(tree))
    names = Names(tree)
    constants = module_constants(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = names.qualify(node.func) or ""
        head, _, last = callee.rpartition(".")
        if not head.startswith("torch.optim") or last not in TORCH_OPTIMIZERS:
            continue
        owner = _params_owner(node.args[0]) if node.args else None
        binding = names.bindings.get(owner) if owner else None
        model_call = binding.call if binding is not None and binding.kind is None else None
        selection = read_selection(tree, node, lambda value: literal(value, constants))
        if selection is not None:  # read in the optimiser's own function: what built that model there
            # a class of this file: GL404 reads its norm layers statically (source/weight_decay.py)
            selection["model_in_file"] = any(isinstance(n, ast.ClassDef) and n.name == selection["constructor"]
                                             for n in tree.body)
            model_call = names.qualify(ast.parse(selection["constructor"], mode="eval").body) or selection["constructor"]
        span = (node.lineno, node.col_offset + 1, node.end_lineno or node.lineno, (node.end_col_offset or 0) + 1)
        script.built.append(Built(last, _literal_options(node, constants), shown, node.lineno, model_call, span,
                                  selection))
    script.built.sort(key=lambda b: b.line)
    return script


def _imports_of(tree: ast.Module) -> list[tuple[int, str]]:
    """Every module (and ``from`` name) a file imports, with its relative level."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            found.append((node.level, module))
            found += [(node.level, f"{module}.{a.name}" if module else a.name) for a in node.names if a.name != "*"]
    return found


def _imports_file(script: _Script, model_file: Path, index: FileIndex) -> bool:
    """Whether ``script`` imports ``model_file``, or the package that holds it (``from
    models import *`` re-exporting it), by the index's one import resolver."""
    for level, module in script.imports:
        if not (module or level):
            continue
        found = index.resolve_import(script.path, module, level)
        if found is not None and (found == model_file or (found.name == "__init__.py" and found.parent == model_file.parent)):
            return True
    return False


def _params_owner(node: ast.AST) -> Optional[str]:
    """``model`` for ``model.parameters()`` (also inside filter/list/a generator)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in ("parameters", "named_parameters"):
            return dotted(sub.func.value)
    return None


def _literal_options(call: ast.Call, constants: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if len(call.args) > 1:  # SGD(params, 0.1): lr is the second positional argument everywhere
        value = literal(call.args[1], constants)
        if value is not None:
            options["lr"] = value
    for keyword in call.keywords:
        if keyword.arg in _KEPT_KEYWORDS:
            value = literal(keyword.value, constants)
            if value is not None:
                options[keyword.arg] = value
    return options
