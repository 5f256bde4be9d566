"""Output formats: text, JSON, SARIF 2.1.0 (validated against the schema), GitHub."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT, run_gradlint
from gradlint.config import Settings
from gradlint.findings import Finding, Severity
from gradlint.report.github import escape_data, escape_property
from gradlint.runner import RunResult
from test_cli import NO_ZERO_GRAD, write

SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"  # copied from the SARIF 2.1.0 OASIS standard
CLIP_AFTER_STEP = NO_ZERO_GRAD + "    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # a repository root for repo-relative URIs
    write(tmp_path, "src/train.py", CLIP_AFTER_STEP)
    write(tmp_path, "src/broken.py", "def f(:\n")
    return tmp_path


def test_json_has_documented_shape(project):
    result = run_gradlint("src", "--output-format", "json", cwd=project)
    data = json.loads(result.stdout)
    assert set(data) == {"version", "gradlint_version", "findings", "models", "notices"}
    assert data["notices"] == []
    assert data["version"] == 1
    first = data["findings"][0]
    assert set(first) == {"code", "name", "severity", "path", "line", "column", "end_line",
                          "end_column", "message", "fix", "confirmation"}
    assert first["confirmation"] == {"status": "not-probed", "evidence": {}}
    assert [(f["path"], f["code"], f["line"], f["column"]) for f in data["findings"]] == [
        ("src/broken.py", "GL001", 1, 7),
        ("src/train.py", "GL206", 5, 1),
        ("src/train.py", "GL202", 9, 5),
    ]
    clip = data["findings"][2]
    assert (clip["end_line"], clip["end_column"]) == (9, 60)  # exclusive end of the call


def test_sarif_validates_against_the_2_1_0_schema(project):
    result = run_gradlint("src", "--output-format", "sarif", cwd=project)
    assert result.returncode == 1
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_id = {rule["id"]: rule for rule in rules}
    assert by_id["GL206"]["name"] == "missing-zero-grad"
    assert by_id["GL206"]["help"]["text"].startswith("## What it does")
    assert all(len(r["fullDescription"]["text"]) <= 1024 and len(r["shortDescription"]["text"]) <= 1024 for r in rules)
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["GL001", "GL206", "GL202"]
    clip = results[2]
    location = clip["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/train.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 9, "startColumn": 5, "endLine": 9, "endColumn": 60}
    assert rules[clip["ruleIndex"]]["id"] == "GL202"
    assert clip["partialFingerprints"]["gradlint/v1"]


def test_sarif_fingerprint_survives_unrelated_line_moves(project):
    before = json.loads(run_gradlint("src/train.py", "--output-format", "sarif", cwd=project).stdout)
    text = (project / "src/train.py").read_text()
    (project / "src/train.py").write_text("# a new first line\n" + text)
    after = json.loads(run_gradlint("src/train.py", "--output-format", "sarif", cwd=project).stdout)
    prints = lambda s: [r["partialFingerprints"] for r in s["runs"][0]["results"]]  # noqa: E731
    assert prints(before) == prints(after)
    assert after["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 6


def test_github_workflow_commands(project):
    result = run_gradlint("src", "--output-format", "github", cwd=project)
    lines = result.stdout.splitlines()
    assert lines[1] == (
        "::error title=GL206 missing-zero-grad,file=src/train.py,line=5,endLine=5,col=1,endColumn=19::"
        "GL206 training loop calls backward() and optimizer.step() but never clears gradients, so they "
        "accumulate across iterations; call optimizer.zero_grad() after optimizer.step(), so each iteration starts from clear gradients"
    )


def test_github_escaping_matches_actions_toolkit():
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_renders_escaped_message_and_notice_level():
    from gradlint.report.github import render_github
    import io

    finding = Finding("GL003", "not-traceable", Severity.INFO, "m,odel:1.py", 3, 1, 3, 2, "50%: a\nb")
    out = io.StringIO()
    render_github(RunResult(findings=[finding]), Settings(), out)
    assert out.getvalue() == (
        "::notice title=GL003 not-traceable,file=m%2Codel%3A1.py,line=3,endLine=3,col=1,endColumn=2::"
        "GL003 50%25: a%0Ab\n"
    )


def test_text_colour_only_when_asked(project):
    plain = run_gradlint("src", cwd=project)
    assert "\033[" not in plain.stdout
    coloured = run_gradlint("src", cwd=project, env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert "\033[1m" in coloured.stdout and "GL206" in coloured.stdout


def test_text_summary_lines(project):
    result = run_gradlint("src", cwd=project)
    assert result.stdout.splitlines()[-2:] == ["Found 3 errors.", "[*] 2 fixable with the `--fix` option."]
