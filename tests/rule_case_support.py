"""Shared by the model and probe rule-case tests: every case and doc example of the
rules of one scope, by a stable name."""

from __future__ import annotations

from typing import Any

from gradlint.findings import Finding
from gradlint.registry import Case, all_rules, code_blocks


def cases_of_scope(scope: str) -> dict[str, tuple[Any, str, Any, tuple]]:
    """name -> (rule, source, expected line or None, options) for VALID/INVALID cases
    and the doc's Example ("example") and Use instead ("better") blocks."""
    cases = {}
    for rule in (r for r in all_rules().values() if r.scope == scope):
        for kind in ("valid", "invalid"):
            for index, case in enumerate(getattr(rule, kind)):
                cases[f"{rule.code}_{kind}_{index}"] = (rule, case.code, case.line, case.options)
        for kind, section in (("example", "Example"), ("better", "Use instead")):
            for index, block in enumerate(code_blocks(rule.section(section))):
                cases[f"{rule.code}_{kind}_{index}"] = (rule, block, None, ())
    return cases


def invalid_cases(scope: str) -> dict[str, Case]:
    """name (as in cases_of_scope) -> the INVALID case itself, for its column and message."""
    return {f"{rule.code}_invalid_{index}": case
            for rule in all_rules().values() if rule.scope == scope for index, case in enumerate(rule.invalid)}


def assert_column_and_message(case: Case, finding: Finding) -> None:
    """A case that states its expected column or a part of its message is held to them."""
    if case.column is not None:
        assert finding.column == case.column, f"column {finding.column}, expected {case.column}: {finding.message}"
    if case.message is not None:
        assert case.message in finding.message, f"{case.message!r} not in {finding.message!r}"
