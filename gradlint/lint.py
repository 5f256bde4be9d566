"""The per-file lint core: the source rules over one file, their reports turned into
findings, and inline and per-file suppression. The runner, the job pool and model
analysis all import it; it imports none of them."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from gradlint.apply import apply_rules, findings_of
from gradlint.config import Settings
from gradlint.findings import Finding
from gradlint.registry import Rule, all_rules, is_selected
from gradlint.source.notebooks import NOTEBOOK_SUFFIX, NotebookError, notebook_script
from gradlint.source.unit import SourceUnit, SyntaxProblem
from gradlint.suppression import is_suppressed_inline, per_file_ignored

# A file can hold a training loop only if one of these appears in it; the rest
# are never summarised (most files of a model zoo are models, not loops).
_LOOP_MARKERS = ("backward", "Trainer", "TrainingArguments", "gradient_clip")


def active_rules(settings: Settings) -> list[Rule]:
    select = settings.select + settings.extend_select
    return [rule for code, rule in all_rules().items() if is_selected(code, select, settings.ignore)]


def relative_to_root(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def lint_unit(unit: SourceUnit, rules: Sequence[Rule], settings: Settings) -> list[Finding]:
    """Every finding of the source rules on one file, after inline and per-file suppression."""
    findings = apply_rules([rule for rule in rules if rule.scope == "file"], unit, settings, unit.path)
    loop_rules = [rule for rule in rules if rule.scope == "loop"]
    if unit.tree is not None and loop_rules and any(m in unit.text for m in _LOOP_MARKERS):
        from gradlint.source.loops import summarize

        try:
            findings += apply_rules(loop_rules, summarize(unit), settings, unit.path)
        except RecursionError:
            # nesting within a hair of the parser's own limit: say so, as the compiler would
            unit.syntax_error = SyntaxProblem("cannot analyse the file: expressions nested too deeply", 1, 1)
            findings = [f for r in rules if r.scope == "file" for f in findings_of(r, r.check(unit, r.options), unit.path)]
    preflight_rules = [rule for rule in rules if rule.scope == "preflight"]
    if unit.tree is not None and preflight_rules and "weight_decay" in unit.text:
        from gradlint.source.weight_decay import static_summaries

        for static in static_summaries(unit):  # GL404 read from the source: facts, nothing measured
            findings += apply_rules(preflight_rules, static, settings, unit.path)
    # a statement inside a helper that several loops call is one finding, at the statement;
    # a file rule's two findings at one place are two problems (two frozen encoders one
    # call builds), each with its own message
    per_file = {rule.code for rule in rules if rule.scope == "file"}
    unique = {(f.code, f.line, f.column, f.message if f.code in per_file else ""): f for f in reversed(findings)}
    return filter_findings(list(reversed(unique.values())), unit, settings)


def filter_findings(findings: list[Finding], unit: Optional[SourceUnit], settings: Settings) -> list[Finding]:
    kept = []
    for finding in findings:
        ignored = per_file_ignored(relative_to_root(Path(finding.path), settings.root), settings.per_file_ignores)
        if ignored and is_selected(finding.code, ignored, []):
            continue
        if unit is not None and is_suppressed_inline(finding, unit.line_text(finding.line)):
            continue
        kept.append(finding)
    return kept


def lint_file(path: Path, shown: str, rules: Sequence[Rule], settings: Settings) -> list[Finding]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        unit = SourceUnit(shown, "")
        unit.syntax_error = SyntaxProblem(f"cannot read the file: {exc.strerror or exc}", 1, 1)
        return lint_unit(unit, rules, settings)
    return lint_source(data, shown, rules, settings)


def lint_source(data: bytes, shown: str, rules: Sequence[Rule], settings: Settings) -> list[Finding]:
    """One file's content: a Python file, or a Jupyter notebook's code cells read as one
    script, its findings placed back at the notebook's lines and cells."""
    if not shown.endswith(NOTEBOOK_SUFFIX):
        return lint_unit(SourceUnit.from_bytes(shown, data), rules, settings)
    try:
        script = notebook_script(data)
    except NotebookError as exc:
        unit = SourceUnit(shown, "")
        unit.syntax_error = SyntaxProblem(str(exc), 1, 1)
        return lint_unit(unit, rules, settings)
    unit = SourceUnit(shown, script.text)
    unit.parse()
    if unit.syntax_error is None and script.broken:  # (Jupyter runs the other cells; so are they read)
        line, column, message = script.broken[0]
        more = len(script.broken) - 1
        unit.syntax_error = SyntaxProblem(f"{message}; the notebook's other cells were checked without this one"
                                          + (f" and {more} more that do not parse" if more else ""), line, column)
    return [script.placed(finding) for finding in lint_unit(unit, rules, settings)]
