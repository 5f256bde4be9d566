"""Inline suppression comments, as flake8 and ruff read them."""

from __future__ import annotations

import pytest

from gradlint.findings import Finding, Severity
from gradlint.suppression import ALL, is_suppressed_inline, per_file_ignored, suppressed_codes


def finding(code: str) -> Finding:
    return Finding(code, "x", Severity.ERROR, "t.py", 1, 1, 1, 2, "m")


@pytest.mark.parametrize(
    "line, code, suppressed",
    [
        ("for x in y:  # noqa: GL206", "GL206", True),
        ("for x in y:  # noqa: GL206", "GL202", False),
        ("for x in y:  # noqa:GL202,GL206", "GL206", True),
        ("for x in y:  # NOQA: GL202 GL206", "GL206", True),
        ("for x in y:  # noqa", "GL206", True),
        ("for x in y:  # gradlint: ignore[GL206]", "GL206", True),
        ("for x in y:  # gradlint: ignore[GL202, GL101]", "GL206", False),
        ("for x in y:  # gradlint: ignore", "GL101", True),
        ("for x in y:  # noqa: GL2", "GL206", True),
        ("for x in y:", "GL206", False),
        ("for x in y:  # no qa", "GL206", False),
    ],
)
def test_inline_comments(line, code, suppressed):
    assert is_suppressed_inline(finding(code), line) is suppressed


def test_bare_noqa_is_all():
    assert suppressed_codes("x = 1  # noqa") is ALL
    assert suppressed_codes("x = 1") is None


def test_per_file_ignores_globs():
    table = {"tests/*": ["GL2"], "legacy.py": ["GL206"], "scripts/": ["GL1"]}
    assert per_file_ignored("tests/test_train.py", table) == ["GL2"]
    assert per_file_ignored("pkg/legacy.py", table) == ["GL206"]
    assert per_file_ignored("scripts/deep/run.py", table) == ["GL1"]
    assert per_file_ignored("train.py", table) == []
