"""ruff-like text: ``path:line:col: CODE message`` and a summary line."""

from __future__ import annotations

from typing import TextIO

from gradlint.config import Settings
from gradlint.runner import RunResult

_BOLD, _RED, _CYAN, _RESET = "\033[1m", "\033[31m", "\033[36m", "\033[0m"


def format_finding(finding, color: bool = False) -> str:
    fixable = " [*]" if finding.fix else ""
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
    return line


def render_text(result: RunResult, settings: Settings, stream: TextIO, *, quiet: bool = False, color: bool = False) -> None:
    # findings of a model are grouped under the model's name, after the file-level ones
    by_model: dict[str, list] = {}
    for finding in result.findings:
        if finding.model is None:
            stream.write(format_finding(finding, color) + "\n")
        else:
            by_model.setdefault(finding.model, []).append(finding)
    for model, findings in by_model.items():
        if not quiet:
            header = f"model {model}:"
            stream.write((f"{_BOLD}{_CYAN}{header}{_RESET}" if color else header) + "\n")
        for finding in findings:
            stream.write(format_finding(finding, color) + "\n")
        if not quiet:
            _write_probe_chart(result, model, stream)
    if not quiet:  # probed models without findings still get their chart
        for entry in result.models:
            if entry.get("name") not in by_model and (entry.get("probe") or {}).get("layers"):
                stream.write(f"model {entry.get('name')}:\n")
                _write_probe_chart(result, entry.get("name"), stream)
    if quiet:
        return
    from gradlint.model.environment import not_analysed, overview_lines

    for line in overview_lines(result.models):  # what was found, analysed and not, and why
        stream.write(line + "\n")
    count = len(result.findings)
    if count == 0:
        left = not_analysed(result.models)
        stream.write(f"All checks passed for what was analysed; {left} model(s) were not analysed (see above).\n"
                     if left else "All checks passed!\n")
        return
    stream.write(f"Found {count} error{'s' if count != 1 else ''}.\n")
    fixable = sum(1 for f in result.findings if f.fix)
    if fixable:
        stream.write(f"[*] {fixable} fixable with the `--fix` option.\n")


def _write_probe_chart(result: RunResult, model: str, stream: TextIO) -> None:
    """The probe's log-scale bar chart of gradient norm by layer (gradlint.probe.chart)."""
    for entry in result.models:
        if entry.get("name") == model and (entry.get("probe") or {}).get("layers"):
            from gradlint.probe.chart import text_chart

            stream.write(text_chart(entry) + "\n")
            return
