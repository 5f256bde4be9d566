"""What CI sees: SARIF fingerprints GitHub can track, --statistics as ruff prints it,
--stdin-filename as editors and hooks pass files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import run_gradlint

LOOP = """\
for x, y in loader:
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
"""


def _git_project(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "src").mkdir()
    # the same loop twice: identical line text, two findings GitHub must keep apart
    (tmp_path / "src" / "train.py").write_text(LOOP + "\n" + LOOP)
    return tmp_path


def _results(stdout: str) -> list[dict]:
    return json.loads(stdout)["runs"][0]["results"]


def test_sarif_uri_and_fingerprint_do_not_depend_on_the_working_folder(tmp_path):
    root = _git_project(tmp_path)
    from_root = _results(run_gradlint("src/train.py", "--output-format", "sarif", cwd=root).stdout)
    from_src = _results(run_gradlint("train.py", "--output-format", "sarif", cwd=root / "src").stdout)
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in from_src] == ["src/train.py"] * 2
    assert [r["partialFingerprints"] for r in from_root] == [r["partialFingerprints"] for r in from_src]


def test_sarif_identical_lines_get_distinct_fingerprints(tmp_path):
    root = _git_project(tmp_path)
    results = _results(run_gradlint("src", "--output-format", "sarif", cwd=root).stdout)
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [1, 6]
    first, second = (r["partialFingerprints"]["gradlint/v1"] for r in results)
    assert first.endswith(":1") and second.endswith(":2") and first[:-2] == second[:-2]


def test_statistics_as_ruff_prints_them(tmp_path):
    (tmp_path / "a.py").write_text("def broken(:\n")
    (tmp_path / "b.py").write_text("x = (\n")
    result = run_gradlint(".", "--statistics", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == "2\tGL001\tsyntax-error\n"  # no [*] column: nothing fixable
    (tmp_path / "c.py").write_text(LOOP + "\n" + LOOP + "\n" + LOOP)
    mixed = run_gradlint(".", "--statistics", cwd=tmp_path)
    assert mixed.stdout == "3\tGL206\t[*] missing-zero-grad\n2\tGL001\t[ ] syntax-error\n"
    as_json = run_gradlint(".", "--statistics", "--output-format", "json", cwd=tmp_path)
    assert json.loads(as_json.stdout) == [
        {"code": "GL206", "name": "missing-zero-grad", "count": 3, "fixable": True},
        {"code": "GL001", "name": "syntax-error", "count": 2, "fixable": False},
    ]


def test_stdin_filename_matches_linting_the_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.gradlint]\nper-file-ignores = { "tests/*" = ["GL206"] }\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(LOOP)
    on_disk = run_gradlint("src/train.py", cwd=tmp_path)
    piped = run_gradlint("--stdin-filename", "src/train.py", cwd=tmp_path, input=LOOP)
    assert piped.returncode == on_disk.returncode == 1
    assert piped.stdout == on_disk.stdout and piped.stdout.startswith("src/train.py:1:1: GL206 [*] ")
    # the config is found from the stdin name, and per-file ignores apply to it
    ignored = run_gradlint("--stdin-filename", "tests/test_train.py", cwd=tmp_path, input=LOOP)
    assert ignored.returncode == 0 and "GL206" not in ignored.stdout
    dash = run_gradlint("-", cwd=tmp_path, input=LOOP)
    assert dash.returncode == 1 and dash.stdout.startswith("-:1:1: GL206 [*] ")
