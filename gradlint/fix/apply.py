"""``--fix`` and ``--diff``: apply the findings' fixes to files, ruff's way.

Fixes are applied in rounds: lint, apply every fix that does not touch another
one's range, re-lint the result, and repeat until nothing is left to fix (fixes
that depend on each other, such as moving a clip and then unscaling before it,
land in later rounds). A round whose result does not parse is dropped. Files are
written atomically (a temporary file in the same folder, then ``os.replace``),
keeping their encoding, byte-order mark, line endings and permissions, and a file
that changed on disk since it was read is left alone.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, TextIO

from gradlint.config import Settings
from gradlint.findings import Fix
from gradlint.runner import active_rules, discover, lint_unit
from gradlint.source.unit import LINE_BREAK, SourceUnit

MAX_ROUNDS = 10


@dataclass
class FixOutcome:
    fixed: int = 0  # findings removed by fixes
    by_severity: dict[str, int] = field(default_factory=dict)  # the same, per severity ("error": 2)
    changed: list[str] = field(default_factory=list)  # files whose text changed
    skipped: list[str] = field(default_factory=list)  # "path: why" for files left alone
    diff: str = ""


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts += [match.end() for match in LINE_BREAK.finditer(text)]
    return starts


def _offset(starts: list[int], text: str, line: int, column: int) -> int:
    if line > len(starts):
        return len(text)
    return min(starts[line - 1] + column - 1, len(text))


def apply_fixes(text: str, fixes: Sequence[Fix]) -> tuple[str, int]:
    """Apply the fixes whose edits touch no other applied fix; how many were applied."""
    new_text, applied = _apply(text, fixes)
    return new_text, len(applied)


def _apply(text: str, fixes: Sequence[Fix]) -> tuple[str, list[int]]:
    """``apply_fixes``, telling which of ``fixes`` (by position) were applied."""
    newline = m.group(0) if (m := LINE_BREAK.search(text)) else "\n"
    starts = _line_starts(text)
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[int, int, str]] = []
    applied: list[int] = []
    for position, fix in enumerate(fixes):
        ranges = [
            (_offset(starts, text, e.line, e.column), _offset(starts, text, e.end_line, e.end_column), e.content)
            for e in fix.edits
        ]
        if any(start <= end2 and start2 <= end for start, end, _ in ranges for start2, end2 in taken):
            continue  # touches another fix: it gets its turn in the next round
        taken += [(start, end) for start, end, _ in ranges]
        chosen += ranges
        applied.append(position)
    for start, end, content in sorted(chosen, key=lambda r: (r[0], r[1]), reverse=True):
        text = text[:start] + content.replace("\n", newline) + text[end:]
    return text, applied


def applicable(fix: Fix, settings: Settings) -> bool:
    """Whether ``--fix`` applies ``fix``: a safe one always, an unsafe one with ``--unsafe-fixes``."""
    return not fix.unsafe or settings.unsafe_fixes


def fix_text(path: str, text: str, settings: Settings) -> tuple[str, int]:
    """The text with every applicable fix applied, and the number of findings fixed."""
    new_text, fixed = fix_text_by_severity(path, text, settings)
    return new_text, sum(fixed.values())


def fix_text_by_severity(path: str, text: str, settings: Settings) -> tuple[str, dict[str, int]]:
    """``fix_text`` with the findings fixed counted per severity (``{"error": 1}``)."""
    rules = active_rules(settings)
    fixed: dict[str, int] = {}
    for _ in range(MAX_ROUNDS):
        unit = SourceUnit(path, text)
        unit.parse()
        if unit.tree is None:
            break
        findings = lint_unit(unit, rules, settings)
        fixable = [f for f in sorted(findings, key=lambda f: f.sort_key()) if f.fix is not None and applicable(f.fix, settings)]
        if not fixable:
            break
        candidate, applied = _apply(text, [f.fix for f in fixable if f.fix is not None])
        check = SourceUnit(path, candidate)
        check.parse()
        if not applied or check.tree is None or candidate == text:
            break  # a fix that would break the file is never written
        text = candidate
        for position in applied:
            severity = fixable[position].severity.value
            fixed[severity] = fixed.get(severity, 0) + 1
    return text, fixed


def fix_paths(paths: Sequence[str], settings: Settings, *, write: bool) -> FixOutcome:
    """Fix every file under ``paths``; write them (``--fix``) or only diff them (``--diff``)."""
    outcome = FixOutcome()
    diffs: list[str] = []
    for path, shown in discover(paths, settings):
        try:
            original = path.read_bytes()
        except OSError as exc:
            outcome.skipped.append(f"{shown}: cannot read ({exc.strerror or exc})")
            continue
        unit = SourceUnit.from_bytes(shown, original)
        if unit.tree is None:
            continue
        new_text, by_severity = fix_text_by_severity(shown, unit.text, settings)
        if new_text == unit.text:
            continue
        fixed = sum(by_severity.values())
        outcome.fixed += fixed
        for severity, count in by_severity.items():
            outcome.by_severity[severity] = outcome.by_severity.get(severity, 0) + count
        outcome.changed.append(shown)
        diffs.append(_unified_diff(shown, unit.text, new_text))
        if write:
            problem = write_atomic(path, original, _encode(new_text, unit.encoding, original))
            if problem:
                outcome.skipped.append(f"{shown}: {problem}")
                outcome.changed.remove(shown)
                outcome.fixed -= fixed
                for severity, count in by_severity.items():
                    outcome.by_severity[severity] -= count
    outcome.diff = "".join(diffs)
    return outcome


def _encode(text: str, encoding: str, original: bytes) -> bytes:
    data = text.encode(encoding)
    bom = b"\xef\xbb\xbf"
    if original.startswith(bom) and not data.startswith(bom):
        data = bom + data
    return data


_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _keepends(text: str) -> list[str]:
    # the parser's line breaks only, so hunk headers give the lines findings name
    return _LINE_WITH_END.findall(text)


def _unified_diff(shown: str, old: str, new: str) -> str:
    # git's a/ b/ prefixes for relative paths; an absolute path is printed as given
    # (``a//tmp/x.py`` would name no file)
    before, after = (shown, shown) if os.path.isabs(shown) else (f"a/{shown}", f"b/{shown}")
    lines = difflib.unified_diff(_keepends(old), _keepends(new), fromfile=before, tofile=after)
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n" for line in lines)


def write_atomic(path: Path, expected: bytes, data: bytes) -> Optional[str]:
    """Replace ``path``'s content with ``data`` unless it no longer holds ``expected``."""
    try:
        mode = os.stat(path).st_mode & 0o7777
        if not mode & 0o222 or not os.access(path, os.W_OK):
            # os.replace would swap a read-only file's content all the same
            return "read-only; not written"
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".gradlint-fix", dir=path.parent)
    except OSError as exc:
        return f"cannot write ({exc.strerror or exc})"
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temp, mode)
        if path.read_bytes() != expected:
            os.unlink(temp)
            return "changed on disk while fixing; not written"
        os.replace(temp, path)
    except OSError as exc:
        if os.path.exists(temp):
            os.unlink(temp)
        return f"cannot write ({exc.strerror or exc})"
    return None


def run_fix(paths: Sequence[str], settings: Settings, *, diff_only: bool, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr, quiet: bool = False) -> Optional[int]:
    """The CLI's ``--fix``/``--diff`` step. For ``--diff`` the exit code (1 if anything
    would change), for ``--fix`` None: the caller then lints and reports what is left."""
    outcome = fix_paths(paths, settings, write=not diff_only)
    for problem in outcome.skipped:
        stderr.write(f"gradlint: warning: {problem}\n")
    if diff_only:
        stdout.write(outcome.diff)
        stdout.flush()
        if not quiet:
            stderr.write(f"Would fix {counted(outcome.by_severity)}.\n")
        return 1 if outcome.changed else 0
    if not quiet and outcome.fixed:
        files = len(outcome.changed)
        stderr.write(f"Fixed {counted(outcome.by_severity)} in {files} file{'s' if files != 1 else ''}.\n")
    return None


_NOUNS = {"error": ("error", "errors"), "warning": ("warning", "warnings"), "info": ("info finding", "info findings")}


def counted(by_severity: dict[str, int]) -> str:
    """``1 error``, ``2 warnings``, ``2 errors and 1 info finding``; ``0 findings`` for none:
    the fixed findings named by their severity, most serious first."""
    parts = [
        f"{count} {_NOUNS[severity][count != 1]}"
        for severity in ("error", "warning", "info")
        if (count := by_severity.get(severity, 0))
    ]
    if not parts:
        return "0 findings"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
