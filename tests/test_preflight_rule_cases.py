"""Every preflight rule's (scope "preflight") VALID/INVALID cases and doc examples, run
through ``gradlint.preflight`` itself: each case is a file whose ``preflight_case()``
builds the real model, batch and optimiser and returns preflight's arguments."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from rule_case_support import assert_column_and_message, cases_of_scope, invalid_cases  # noqa: E402

CASES = cases_of_scope("preflight")
INVALID = invalid_cases("preflight")
# appended to each case, so that preflight is called from the case's own file, as a
# training script calls it (its optimiser is found there)
CALL = """

def run_preflight_case():
    import gradlint
    return gradlint.preflight(**preflight_case())
"""


def run_case(tmp_path: Path, name: str) -> tuple[list, Path]:
    rule, source, _, _ = CASES[name]
    path = tmp_path / f"case_{name.lower()}.py"
    path.write_text(source + CALL)
    spec = importlib.util.spec_from_file_location(f"preflight_case_{name.lower()}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    report = module.run_preflight_case()
    return [f for f in report.findings if f.code == rule.code], path


def _names(kind: str) -> list[str]:
    return [name for name in CASES if f"_{kind}_" in name]


@pytest.mark.parametrize("name", _names("valid"))
def test_valid_case_is_clean(tmp_path, name):
    findings, _ = run_case(tmp_path, name)
    assert [f.message for f in findings] == []


@pytest.mark.parametrize("name", _names("invalid"))
def test_invalid_case_fires_at_its_line(tmp_path, name):
    findings, path = run_case(tmp_path, name)
    assert [f.line for f in findings] == [CASES[name][2]], [f.message for f in findings]
    assert_column_and_message(INVALID[name], findings[0])
    assert Path(findings[0].path).name == path.name


@pytest.mark.parametrize("name", _names("example"))
def test_doc_example_fires(tmp_path, name):
    assert run_case(tmp_path, name)[0], name


@pytest.mark.parametrize("name", _names("better"))
def test_doc_use_instead_is_clean(tmp_path, name):
    assert [f.message for f in run_case(tmp_path, name)[0]] == []
