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
from gradlint.registry import Report, Rule, all_rules, is_selected
from gradlint.source.unit import SourceUnit
from gradlint.suppression import is_suppressed_inline, per_file_ignored

# A file can hold a training loop only if one of these appears in it; the rest
# are never summarised (most files of a model zoo are models, not loops).
_LOOP_MARKERS = ("backward", "Trainer", "TrainingArguments", "gradient_clip")


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


def active_rules(settings: Settings) -> list[Rule]:
    select = settings.select + settings.extend_select
    return [rule for code, rule in all_rules().items() if is_selected(code, select, settings.ignore)]


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
                if name.endswith((".py", ".pyi")):
                    file = Path(folder, name)
                    if not _is_excluded(file, name, excluded, settings.root):
                        found[_shown(file)] = file
    return [(found[shown], shown) for shown in sorted(found)]


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _relative_to_root(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _is_excluded(path: Path, name: str, patterns: Iterable[str], root: Path) -> bool:
    relative = _relative_to_root(path, root)
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(relative, p) for p in patterns)


def lint_unit(unit: SourceUnit, rules: Sequence[Rule], settings: Settings) -> list[Finding]:
    """Every finding of the source rules on one file, after inline and per-file suppression."""
    reports: list[tuple[Rule, Report]] = []
    for rule in rules:
        if rule.scope == "file":
            reports += [(rule, r) for r in rule.check(unit, settings.options_for(rule.code, rule.options))]
    loop_rules = [rule for rule in rules if rule.scope == "loop"]
    if unit.tree is not None and loop_rules and any(m in unit.text for m in _LOOP_MARKERS):
        from gradlint.source.loops import summarize

        try:
            summary = summarize(unit)
            for rule in loop_rules:
                options = settings.options_for(rule.code, rule.options)
                reports += [(rule, r) for r in rule.check(summary, options)]
        except RecursionError:
            # nesting within a hair of the parser's own limit: say so, as the compiler would
            from gradlint.source.unit import SyntaxProblem

            unit.syntax_error = SyntaxProblem("cannot analyse the file: expressions nested too deeply", 1, 1)
            reports = [(r, rep) for r in rules if r.scope == "file" for rep in r.check(unit, r.options)]
    # a statement inside a helper that several loops call is one finding, at the statement
    unique = {(rule.code, r.span.line, r.span.column): (rule, r) for rule, r in reversed(reports)}
    findings = [to_finding(rule, report, unit.path) for rule, report in reversed(unique.values())]
    return filter_findings(findings, unit, settings)


def to_finding(rule: Rule, report: Report, path: str) -> Finding:
    span = report.span
    return Finding(
        code=rule.code,
        name=rule.name,
        severity=rule.severity,
        path=path,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        message=report.message,
        fix=report.fix,
        model=report.extra.get("model"),
    )


def filter_findings(findings: list[Finding], unit: Optional[SourceUnit], settings: Settings) -> list[Finding]:
    kept = []
    for finding in findings:
        ignored = per_file_ignored(_relative_to_root(Path(finding.path), settings.root), settings.per_file_ignores)
        if ignored and is_selected(finding.code, ignored, []):
            continue
        if unit is not None and is_suppressed_inline(finding, unit.line_text(finding.line)):
            continue
        kept.append(finding)
    return kept


def lint_file(path: Path, shown: str, rules: Sequence[Rule], settings: Settings) -> list[Finding]:
    try:
        unit = SourceUnit.from_path(path, shown)
    except OSError as exc:
        unit = SourceUnit(shown, "")
        from gradlint.source.unit import SyntaxProblem

        unit.syntax_error = SyntaxProblem(f"cannot read the file: {exc.strerror or exc}", 1, 1)
    return lint_unit(unit, rules, settings)


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

        if wants_models(rules):
            from gradlint.cache import Cache, cached_models, models_key

            def analyse() -> tuple[list[Finding], list[dict[str, Any]]]:
                return analyze_models(files, rules, settings, options.models, options.input,
                                      jobs=options.jobs or settings.jobs)

            cache = Cache(settings.root) if options.use_cache else None
            key = models_key([p for p, _ in files], settings, [r.code for r in rules], [options.models, options.input]) if cache else ""
            model_findings, result.models = cached_models(cache, key, analyse)
            from gradlint.probe.confirm import apply_refuted_policy

            result.findings.extend(apply_refuted_policy(suppress(model_findings, settings), settings.refuted))
            result.notices.extend(model_notices(result.models))
    result.findings.sort(key=Finding.sort_key)
    return result


def run_source(data: bytes, filename: str, settings: Settings) -> RunResult:
    """Lint one file's content given on stdin (``--stdin-filename``), shown as ``filename``:
    source rules only, since unsaved code is never imported."""
    unit = SourceUnit.from_bytes(_shown(Path(filename)), data)
    result = RunResult(files=1, findings=lint_unit(unit, active_rules(settings), settings))
    result.findings.sort(key=Finding.sort_key)
    return result
