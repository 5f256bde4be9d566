"""The run: discover files, build each file's summaries once, apply the rules,
suppressions and selection, and hand sorted findings to a reporter."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from gradlint.config import Settings
from gradlint.findings import Finding
# the per-file lint core lives in gradlint.lint (jobs and model analysis import it
# without the runner); its names stay importable from here
from gradlint.lint import active_rules, filter_findings, lint_file, lint_source, lint_unit, relative_to_root
from gradlint.source.notebooks import NOTEBOOK_SUFFIX
from gradlint.registry import Rule

__all__ = ["RunOptions", "RunResult", "UsageError", "active_rules", "discover", "filter_findings", "lint_file",
           "lint_files", "lint_unit", "run", "run_source"]


class UsageError(Exception):
    """A problem with how gradlint was called (exit 2)."""


@dataclass
class RunOptions:
    """How this run was asked for (CLI flags that are not settings)."""

    no_exec: bool = False  # static only: never import or run user code
    jobs: Optional[int] = None  # processes for many files and model files (None: settings.jobs, else the cores)
    use_cache: bool = True  # read and write .gradlint_cache/ (False with --no-cache)
    models: list[str] = field(default_factory=list)  # --model FILE:CALLABLE (repeatable)
    input: Optional[str] = None  # --input SPEC for the models of this run


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    models: list[dict[str, Any]] = field(default_factory=list)
    # problems of the environment, not of the user's code (no torch): said once, never a finding
    notices: list[str] = field(default_factory=list)


def discover(paths: Sequence[str], settings: Settings) -> list[tuple[Path, str]]:
    """Python files under ``paths`` as (real path, path shown to the user), sorted."""
    excluded = settings.exclude + settings.extend_exclude
    found: dict[str, Path] = {}
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise UsageError(f"{given}: no such file or directory")
        if path.is_file():
            # a file named explicitly is linted whatever its suffix, as ruff does
            found[_shown(path)] = path
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not _is_excluded(Path(folder, d), d, excluded, settings.root))
            for name in files:
                if name.endswith((".py", ".pyi", NOTEBOOK_SUFFIX)):
                    file = Path(folder, name)
                    if not _is_excluded(file, name, excluded, settings.root):
                        found[_shown(file)] = file
    return [(found[shown], shown) for shown in sorted(found)]


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _is_excluded(path: Path, name: str, patterns: Iterable[str], root: Path) -> bool:
    relative = relative_to_root(path, root)
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(relative, p) for p in patterns)


def lint_files(files: Sequence[tuple[Path, str]], rules: Sequence[Rule], settings: Settings, options: RunOptions) -> list[Finding]:
    """The source rules over every file: cached results first, the rest spread over
    ``--jobs`` processes when there are enough files to pay for a pool."""
    from gradlint.jobs import lint_all

    jobs = options.jobs or settings.jobs
    per_file = lint_all(files, rules, settings, jobs=jobs, use_cache=options.use_cache)
    return [finding for findings in per_file for finding in findings]


def run(paths: Sequence[str], settings: Settings, options: Optional[RunOptions] = None) -> RunResult:
    options = options or RunOptions()
    files = discover(paths, settings)
    rules = active_rules(settings)
    result = RunResult(files=len(files))
    result.findings.extend(lint_files(files, rules, settings, options))
    # model analysis and the probe (worker process) plug in here, unless options.no_exec
    if not options.no_exec:
        from gradlint.model.analyze import analyze_models, model_notices, suppress, wants_models

        # (a notebook's models are read from its cells by the source rules; none is built from it)
        scripts = [(path, shown) for path, shown in files if not shown.endswith(NOTEBOOK_SUFFIX)]
        if wants_models(rules):
            from gradlint.cache import Cache, cached_models, models_key

            from gradlint.source.index import FileIndex

            index = FileIndex(settings.root)  # the run's files, read once for the key and the models

            def analyse() -> tuple[list[Finding], list[dict[str, Any]]]:
                return analyze_models(scripts, rules, settings, options.models, options.input,
                                      jobs=options.jobs or settings.jobs, index=index)

            cache = Cache(settings.root) if options.use_cache else None
            key = models_key([p for p, _ in scripts], settings, [r.code for r in rules], [options.models, options.input],
                             index) if cache else ""
            model_findings, result.models = cached_models(cache, key, analyse)
            from gradlint.probe.confirm import apply_refuted_policy

            result.findings.extend(apply_refuted_policy(suppress(model_findings, settings), settings.refuted))
            result.notices.extend(model_notices(result.models))
    from gradlint.probe.loss_link import confirm_loss_findings

    confirm_loss_findings(result.findings, result.models)  # GL215: the probe's gradient at the logits, or why not
    result.findings.sort(key=Finding.sort_key)
    return result


def run_source(data: bytes, filename: str, settings: Settings) -> RunResult:
    """Lint one file's content given on stdin (``--stdin-filename``), shown as ``filename``:
    source rules only, since unsaved code is never imported."""
    result = RunResult(files=1, findings=lint_source(data, _shown(Path(filename)), active_rules(settings), settings))
    result.findings.sort(key=Finding.sort_key)
    return result
