"""Every rule's own VALID/INVALID cases, and its doc's Example / Use instead blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradlint.config import Settings
from gradlint.findings import Finding
from gradlint.registry import all_rules, code_blocks
from gradlint.runner import lint_file
from rule_case_support import CASES_FOLDER, assert_column_and_message, cases_module, rule_cases

SOURCE_SCOPES = ("file", "loop")
RULES = [rule for rule in all_rules().values() if rule.scope in SOURCE_SCOPES]


def lint_case(tmp_path: Path, code: str, source: str, files=(), options=()) -> list:
    for name, text in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    path = tmp_path / "case.py"
    path.write_text(source)
    settings = Settings(select=[code], root=tmp_path)
    if options:
        settings.rule_options[code] = dict(options)
    rule = all_rules()[code]
    return [f for f in lint_file(path, str(path), [rule], settings) if f.code == code]


def _cases(kind: str):
    for rule in RULES:
        for index, case in enumerate(rule_cases(rule, kind)):
            yield pytest.param(rule.code, case, id=f"{rule.code}-{kind}-{index}")


@pytest.mark.parametrize("code,case", list(_cases("valid")))
def test_valid_case_is_clean(tmp_path, code, case):
    assert lint_case(tmp_path, code, case.code, case.files, case.options) == []


@pytest.mark.parametrize("code,case", list(_cases("invalid")))
def test_invalid_case_fires_at_its_line(tmp_path, code, case):
    findings = lint_case(tmp_path, code, case.code, case.files, case.options)
    assert [f.line for f in findings] == [case.line], [f.message for f in findings]
    assert_column_and_message(case, findings[0])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_doc_example_fires_and_use_instead_does_not(tmp_path, rule):
    example = code_blocks(rule.section("Example"))
    better = code_blocks(rule.section("Use instead"))
    assert example and better, f"{rule.code} doc needs ```python blocks under Example and Use instead"
    assert any(lint_case(tmp_path, rule.code, block) for block in example)
    assert all(lint_case(tmp_path, rule.code, block) == [] for block in better)


def test_case_column_and_message_are_checked():
    from gradlint.findings import Severity
    from gradlint.registry import Case

    finding = Finding("GL206", "missing-zero-grad", Severity.WARNING, "case.py", 5, 9, 5, 26, "gradients accumulate")
    assert_column_and_message(Case("", line=5, column=9, message="accumulate"), finding)
    with pytest.raises(AssertionError, match="column 9, expected 8"):
        assert_column_and_message(Case("", line=5, column=8), finding)
    with pytest.raises(AssertionError, match="not in"):
        assert_column_and_message(Case("", line=5, message="vanish"), finding)


@pytest.mark.parametrize("rule", list(all_rules().values()), ids=lambda r: r.code)
def test_rule_doc_has_ruff_sections(rule):
    for section in ("What it does", "Why is this bad?", "Example", "Use instead", "Options", "References"):
        assert rule.section(section), f"{rule.code} doc lacks '## {section}'"
    assert rule.name == rule.name.lower() and " " not in rule.name
    assert rule.valid and rule.invalid, f"{rule.code} carries no VALID/INVALID cases"


def _fixed_cases():
    for rule in RULES:
        for index, case in enumerate(rule_cases(rule, "invalid")):
            if case.fixed is not None:
                yield pytest.param(rule.code, case, id=f"{rule.code}-fixed-{index}")


@pytest.mark.parametrize("code,case", list(_fixed_cases()))
def test_invalid_case_fix_gives_fixed_text(tmp_path, code, case):
    from gradlint.fix.apply import fix_text

    lint_case(tmp_path, code, case.code, case.files, case.options)  # writes the case and its files
    # the expected text is what --fix gives, with --unsafe-fixes for rules whose fix is unsafe
    settings = Settings(select=[code], root=tmp_path, unsafe_fixes=True)
    settings.rule_options[code] = dict(case.options)
    path = str(tmp_path / "case.py")
    fixed, count = fix_text(path, case.code, settings)
    assert fixed == case.fixed
    assert count >= 1
    assert fix_text(path, fixed, settings) == (fixed, 0)  # idempotent
    assert lint_case(tmp_path, code, fixed, case.files, case.options) == []


def test_every_cases_module_belongs_to_a_rule_and_holds_only_cases():
    """rules/cases/<module>.py is named as its rule's module and holds VALID/INVALID
    lists of Case; a misnamed one would never run."""
    from gradlint.registry import Case

    modules = {rule.module.rsplit(".", 1)[-1]: rule for rule in all_rules().values()}
    files = sorted(p.stem for p in CASES_FOLDER.glob("*.py") if p.stem != "__init__")
    assert files, "no rules/cases modules"
    for stem in files:
        assert stem in modules, f"rules/cases/{stem}.py names no rule module"
        module = cases_module(modules[stem].module)
        lists = {name: getattr(module, name) for name in ("VALID", "INVALID") if hasattr(module, name)}
        assert lists and all(isinstance(case, Case) for cases in lists.values() for case in cases), stem
        assert all(case.line is not None for case in lists.get("INVALID", ())), stem
