"""Every probe rule's (GL3xx) VALID/INVALID cases and doc examples, through the real
worker and the real probe: all cases in one folder, ONE worker run, then each case
judged on its own with its own options."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from gradlint.config import Settings  # noqa: E402
from gradlint.model.analyze import collect, judge  # noqa: E402
from gradlint.registry import all_rules  # noqa: E402
from rule_case_support import assert_column_and_message, cases_of_scope, invalid_cases  # noqa: E402

RULES = [rule for rule in all_rules().values() if rule.scope == "probe"]


CASES = cases_of_scope("probe")
INVALID = invalid_cases("probe")


def _settings(folder: Path, code: str = "ALL") -> Settings:
    settings = Settings(root=folder, select=[code])
    settings.probe.update({"enabled": True, "device": "cpu", "seed": 0})
    return settings


@pytest.fixture(scope="session")
def analysed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("probe_cases")
    files = []
    for name, (_, source, _, _) in CASES.items():
        path = folder / f"case_{name.lower()}.py"
        path.write_text(source)
        files.append((path, str(path)))
    return {str(Path(c.file)): (c, r) for c, r in collect(files, _settings(folder))}, folder


def findings_for(analysed, name: str) -> list:
    results, folder = analysed
    rule, _, _, options = CASES[name]
    path = str((folder / f"case_{name.lower()}.py").resolve())
    collected = [item for file, item in results.items() if file == path]
    assert collected and collected[0][1].status == "ok", collected
    assert "error" not in (collected[0][1].probe or {}), collected[0][1].probe
    settings = _settings(folder, rule.code)
    if options:
        settings.rule_options[rule.code] = dict(options)
    findings, _ = judge(collected, [rule], settings)
    return [f for f in findings if f.code == rule.code]


def _names(kind: str) -> list[str]:
    return [name for name in CASES if f"_{kind}_" in name]


@pytest.mark.parametrize("name", _names("valid"))
def test_valid_case_is_clean(analysed, name):
    assert [f.message for f in findings_for(analysed, name)] == []


@pytest.mark.parametrize("name", _names("invalid"))
def test_invalid_case_fires_at_its_line(analysed, name):
    findings = findings_for(analysed, name)
    assert [f.line for f in findings] == [CASES[name][2]], [f.message for f in findings]
    assert_column_and_message(INVALID[name], findings[0])
    assert findings[0].message.startswith("measured: ")
    assert findings[0].confirmation.status == "confirmed"


@pytest.mark.parametrize("name", _names("example"))
def test_doc_example_fires(analysed, name):
    assert findings_for(analysed, name), name


@pytest.mark.parametrize("name", _names("better"))
def test_doc_use_instead_is_clean(analysed, name):
    assert [f.message for f in findings_for(analysed, name)] == []
