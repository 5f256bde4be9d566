"""The language server's line map for model findings of the last save (no pygls needed)."""

from __future__ import annotations

from gradlint.findings import Edit, Finding, Fix, Severity
from gradlint.server.shift import shift

SAVED = ["a\n", "b\n", "c\n", "d\n", "e\n"]


def _finding(line: int, end_line: int) -> Finding:
    fix = Fix("f", (Edit(line, 1, line, 1, "x"),))
    return Finding("GL102", "default-init-deep", Severity.WARNING, "m.py", line, 1, end_line, 2, "m", fix=fix)


def test_findings_move_with_inserted_and_deleted_lines():
    inserted = ["new\n", "new\n", *SAVED]
    moved = shift([_finding(3, 4)], SAVED, inserted)
    assert [(f.line, f.end_line) for f in moved] == [(5, 6)]
    assert moved[0].fix.edits[0].line == 5  # the fix moves with it
    deleted = SAVED[1:]
    assert [(f.line, f.end_line) for f in shift([_finding(3, 4)], SAVED, deleted)] == [(2, 3)]


def test_a_finding_touching_an_edited_line_is_hidden():
    edited = ["a\n", "b\n", "c\n", "D!\n", "e\n"]
    assert shift([_finding(3, 4)], SAVED, edited) == []  # its second line changed
    assert [f.line for f in shift([_finding(5, 5), _finding(1, 1)], SAVED, edited)] == [5, 1]
    split = ["a\n", "b\n", "c\n", "inserted\n", "d\n", "e\n"]
    assert shift([_finding(3, 4)], SAVED, split) == []  # a line inserted inside its span


def test_unchanged_text_keeps_every_finding():
    findings = [_finding(2, 2)]
    assert shift(findings, SAVED, list(SAVED)) == findings
