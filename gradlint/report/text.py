"""ruff-like text: ``path:line:col: CODE message`` and a summary line."""

from __future__ import annotations

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
    return line


def render_text(result: RunResult, settings: Settings, stream: TextIO, *, quiet: bool = False, color: bool = False) -> None:
    # findings of a model are grouped under the model's name, after the file-level ones
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
    if not quiet:  # probed models without findings still get their chart
        for entry in result.models:
            if entry.get("name") not in by_model and (entry.get("probe") or {}).get("layers"):
                stream.write(f"model {entry.get('name')}:\n")
                _write_probe_chart(result, entry.get("name"), stream)
    if quiet:
        return
    count = len(result.findings)
    if count == 0:
        stream.write("All checks passed!\n")
        return
    stream.write(f"Found {count} error{'s' if count != 1 else ''}.\n")
    fixable = sum(1 for f in result.findings if f.fix and (settings.unsafe_fixes or not f.fix.unsafe))
    hidden = sum(1 for f in result.findings if f.fix and f.fix.unsafe and not settings.unsafe_fixes)
    more = f" ({hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the `--unsafe-fixes` option)" if hidden else ""
    if fixable:
        stream.write(f"[*] {fixable} fixable with the `--fix` option{more}.\n")
    elif hidden:
        stream.write(f"No fixes available{more}.\n")


def _write_probe_chart(result: RunResult, model: str, stream: TextIO) -> None:
    """The probe's log-scale bar chart of gradient norm by layer (gradlint.probe.chart)."""
    for entry in result.models:
        if entry.get("name") == model and (entry.get("probe") or {}).get("layers"):
            from gradlint.probe.chart import text_chart

            stream.write(text_chart(entry) + "\n")
            return
