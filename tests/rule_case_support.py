"""Shared by the model and probe rule-case tests: every case and doc example of the
rules of one scope, by a stable name."""

from __future__ import annotations

from typing import Any

from gradlint.registry import all_rules, code_blocks


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
