"""ruff-like text: ``path:line:col: CODE message`` and a summary line."""

from __future__ import annotations

import os
from typing import TextIO

from gradlint.config import Settings
from gradlint.runner import RunResult

_BOLD, _RED, _CYAN, _RESET = "\033[1m", "\033[31m", "\033[36m", "\033[0m"


def format_finding(finding, color: bool = False, unsafe_fixes: bool = False) -> str:
    # as ruff: [*] only where --fix (with --unsafe-fixes when given) would apply the fix
    fixable = " [*]" if finding.fix and (unsafe_fixes or not finding.fix.unsafe) else ""
    location = f"{finding.path}:{finding.line}:{finding.column}:"
    code = finding.code
    if color:
        location = f"{_BOLD}{location}{_RESET}"
        code = f"{_BOLD}{_RED}{code}{_RESET}"
    line = f"{location} {code}{fixable} {finding.message}"
    confirmation = finding.confirmation
    if confirmation is not None and confirmation.status != "not-probed":
        evidence = ", ".join(f"{k}={v}" for k, v in confirmation.evidence.items())
        line += f"\n  probe: {confirmation.status}" + (f" ({evidence})" if evidence else "")
        if confirmation.status == "refuted" and finding.severity.value == "info":
            line += "; reported as info ([tool.gradlint] refuted = \"keep\" keeps the rule's severity)"
    return line


def render_text(result: RunResult, settings: Settings, stream: TextIO, *, quiet: bool = False, color: bool = False,
                show_probe: bool = False) -> None:
    """Findings, then each model's findings under its name with the probe chart. A model
    with no finding costs no line unless ``show_probe`` (a clean CI log stays short)."""
    by_model: dict[str, list] = {}
    for finding in result.findings:
        if finding.model is None:
            stream.write(format_finding(finding, color, settings.unsafe_fixes) + "\n")
        else:
            by_model.setdefault(finding.model, []).append(finding)
    for model, findings in by_model.items():
        if not quiet:
            header = f"model {model}:"
            stream.write((f"{_BOLD}{_CYAN}{header}{_RESET}" if color else header) + "\n")
        for finding in findings:
            stream.write(format_finding(finding, color, settings.unsafe_fixes) + "\n")
        if not quiet:
            _write_probe_chart(result, model, stream)
    if show_probe and not quiet:
        for entry in result.models:
            if entry.get("name") not in by_model and (entry.get("probe") or {}).get("layers"):
                stream.write(f"model {entry.get('name')}:\n")
                _write_probe_chart(result, str(entry.get("name")), stream)
    if quiet:
        return
    from gradlint.model.environment import overview_lines

    for line in overview_lines(result.models):  # what was found, analysed and not, and why
        stream.write(line + "\n")
    stream.write(summary_line(result, show_probe) + "\n")
    fixable = sum(1 for f in result.findings if f.fix and (settings.unsafe_fixes or not f.fix.unsafe))
    hidden = sum(1 for f in result.findings if f.fix and f.fix.unsafe and not settings.unsafe_fixes)
    more = f" ({hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the `--unsafe-fixes` option)" if hidden else ""
    if fixable:
        stream.write(fixable_line(fixable, more) + "\n")
    elif hidden:
        stream.write(f"No fixes available{more}.\n")


def fixable_line(count: int, more: str = "") -> str:
    """ruff's line; under pre-commit (which sets PRE_COMMIT=1 for its hooks) a flag on a
    command the user never typed cannot be acted on, so it says where the flag goes."""
    if os.environ.get("PRE_COMMIT") == "1":
        return (f"[*] {count} fixable: add `args: [--fix]` to the gradlint hook in .pre-commit-config.yaml, "
                f"or run `gradlint --fix` on these files{more}.")
    return f"[*] {count} fixable with the `--fix` option{more}."


_NOUNS = {"error": ("error", "errors"), "warning": ("warning", "warnings"), "info": ("info finding", "info findings")}


def summary_line(result: RunResult, show_probe: bool = False) -> str:
    """"Found 2 errors." when every finding has one severity, else "Found 3 findings
    (2 errors, 1 warning)."; with no finding, "All checks passed!" and what was probed."""
    count = len(result.findings)
    if count == 0:
        probed = sum(1 for m in result.models if (m.get("probe") or {}).get("layers"))
        analysed = sum(1 for m in result.models if m.get("status") == "analysed")
        from gradlint.model.environment import not_analysed

        left = not_analysed(result.models)
        if left:
            return f"All checks passed for what was analysed; {left} model(s) were not analysed (see above)."
        if not analysed:
            return "All checks passed!"
        hint = "" if show_probe else "; --show-probe draws their charts"
        probe_note = f", {probed} probed{hint}" if probed else ""
        return f"All checks passed! ({analysed} model{'s' if analysed != 1 else ''} analysed{probe_note})"
    by_severity: dict[str, int] = {}
    for finding in result.findings:
        by_severity[finding.severity.value] = by_severity.get(finding.severity.value, 0) + 1
    parts = [f"{n} {_NOUNS[s][n != 1]}" for s in ("error", "warning", "info") if (n := by_severity.get(s))]
    if len(parts) == 1:
        return f"Found {parts[0]}."
    return f"Found {count} findings ({', '.join(parts)})."


def _write_probe_chart(result: RunResult, model: str, stream: TextIO) -> None:
    """The probe's log-scale bar chart of gradient norm by layer (gradlint.probe.chart)."""
    for entry in result.models:
        if entry.get("name") == model and (entry.get("probe") or {}).get("layers"):
            from gradlint.probe.chart import text_chart

            stream.write(text_chart(entry) + "\n")
            return
