"""Every model rule's VALID/INVALID cases and doc examples, through the real worker.

All cases are written to one folder and analysed by ONE worker run (torch imported
once); each case is then judged on its own with its own options.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gradlint.config import Settings
from gradlint.model.analyze import collect, judge
from gradlint.registry import all_rules, code_blocks
from rule_case_support import assert_column_and_message, cases_of_scope, invalid_cases

RULES = [rule for rule in all_rules().values() if rule.scope == "model"]


CASES = cases_of_scope("model")
INVALID = invalid_cases("model")


@pytest.fixture(scope="session")
def analysed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model_cases")
    files = []
    for name, (_, source, _, _) in CASES.items():
        path = folder / f"case_{name.lower()}.py"
        path.write_text(source)
        files.append((path, str(path)))
    settings = Settings(root=folder)
    settings.probe["enabled"] = False
    return {str(Path(c.file)): (c, r) for c, r in collect(files, settings)}, folder


def findings_for(analysed, name: str) -> list:
    results, folder = analysed
    rule, _, _, options = CASES[name]
    path = str((folder / f"case_{name.lower()}.py").resolve())
    collected = [item for file, item in results.items() if file == path]
    settings = Settings(root=folder)
    if options:
        settings.rule_options[rule.code] = dict(options)
    findings, _ = judge(collected, [rule], settings)
    return [f for f in findings if f.code == rule.code]


def _names(kind: str) -> list[str]:
    return [name for name in CASES if f"_{kind}_" in name]


@pytest.mark.parametrize("name", _names("valid"))
def test_valid_case_is_clean(analysed, name):
    assert findings_for(analysed, name) == []


@pytest.mark.parametrize("name", _names("invalid"))
def test_invalid_case_fires_at_its_line(analysed, name):
    findings = findings_for(analysed, name)
    assert [f.line for f in findings] == [CASES[name][2]], [f.message for f in findings]
    assert_column_and_message(INVALID[name], findings[0])


@pytest.mark.parametrize("name", _names("example"))
def test_doc_example_fires(analysed, name):
    assert findings_for(analysed, name), name


@pytest.mark.parametrize("name", _names("better"))
def test_doc_use_instead_is_clean(analysed, name):
    assert findings_for(analysed, name) == []


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_model_rule_has_doc_blocks(rule):
    assert code_blocks(rule.section("Example")) and code_blocks(rule.section("Use instead"))
