"""Shared by the rule-case tests: every case of a rule (its module's and those of its
``rules/cases/`` module) and every doc example of the rules of one scope, by a stable name."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Optional

from gradlint.findings import Finding
from gradlint.registry import Case, Rule, all_rules, code_blocks

# test data of the repository, not installed with the package
CASES_FOLDER = Path(__file__).resolve().parent.parent / "rules" / "cases"


@lru_cache(maxsize=None)
def cases_module(rule_module: str) -> Optional[ModuleType]:
    """The ``rules/cases/`` module of a rule (by its module's name), if it has one."""
    name = rule_module.rsplit(".", 1)[-1]
    path = CASES_FOLDER / f"{name}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"gradlint.rules.cases.{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rule_cases(rule: Rule, kind: str) -> tuple[Case, ...]:
    """A rule's ``valid`` or ``invalid`` cases: its module's, then its cases module's."""
    more = cases_module(rule.module)
    return tuple(getattr(rule, kind)) + tuple(getattr(more, kind.upper(), ()) if more is not None else ())


def cases_of_scope(scope: str) -> dict[str, tuple[Any, str, Any, tuple]]:
    """name -> (rule, source, expected line or None, options) for VALID/INVALID cases
    and the doc's Example ("example") and Use instead ("better") blocks."""
    cases = {}
    for rule in (r for r in all_rules().values() if r.scope == scope):
        for kind in ("valid", "invalid"):
            for index, case in enumerate(rule_cases(rule, kind)):
                cases[f"{rule.code}_{kind}_{index}"] = (rule, case.code, case.line, case.options)
        for kind, section in (("example", "Example"), ("better", "Use instead")):
            for index, block in enumerate(code_blocks(rule.section(section))):
                cases[f"{rule.code}_{kind}_{index}"] = (rule, block, None, ())
    return cases


def invalid_cases(scope: str) -> dict[str, Case]:
    """name (as in cases_of_scope) -> the INVALID case itself, for its column and message."""
    return {f"{rule.code}_invalid_{index}": case
            for rule in all_rules().values() if rule.scope == scope for index, case in enumerate(rule_cases(rule, "invalid"))}


def assert_column_and_message(case: Case, finding: Finding) -> None:
    """A case that states its expected column or a part of its message is held to them."""
    if case.column is not None:
        assert finding.column == case.column, f"column {finding.column}, expected {case.column}: {finding.message}"
    if case.message is not None:
        assert case.message in finding.message, f"{case.message!r} not in {finding.message!r}"
