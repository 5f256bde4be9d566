"""Keep the model findings of the last save on the right lines while the user edits.

Model analysis runs only on save (it imports the file in the worker), so between saves
its findings carry the line numbers of the saved text. Each publish maps them onto the
current text: a finding on lines the edits left alone moves with them, a finding on an
edited line is hidden until the next save says whether it still holds.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Sequence

from gradlint.findings import Finding


def line_map(saved: Sequence[str], current: Sequence[str]) -> dict[int, int]:
    """1-based line of the saved text -> its 1-based line in the current text, for every
    line the edits did not touch."""
    matcher = difflib.SequenceMatcher(None, list(saved), list(current), autojunk=False)
    mapping: dict[int, int] = {}
    for tag, old_start, old_end, new_start, _ in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(old_end - old_start):
                mapping[old_start + offset + 1] = new_start + offset + 1
    return mapping


def shift(findings: Sequence[Finding], saved: Sequence[str], current: Sequence[str]) -> list[Finding]:
    """``findings`` (positions in ``saved``) moved onto ``current``; those touching an
    edited line are left out."""
    if not findings or list(saved) == list(current):
        return list(findings)
    mapping = line_map(saved, current)
    moved = []
    for finding in findings:
        lines = range(finding.line, finding.end_line + 1)
        if all(line in mapping for line in lines):
            delta = mapping[finding.line] - finding.line
            if all(mapping[line] == line + delta for line in lines):  # the span stayed in one piece
                moved.append(_moved(finding, delta) if delta else finding)
    return moved


def _moved(finding: Finding, delta: int) -> Finding:
    fix = finding.fix
    if fix is not None:  # its edits sit on the finding's unedited lines: they move with it
        edits = tuple(dataclasses.replace(e, line=e.line + delta, end_line=e.end_line + delta) for e in fix.edits)
        fix = dataclasses.replace(fix, edits=edits)
    return dataclasses.replace(finding, line=finding.line + delta, end_line=finding.end_line + delta, fix=fix)
