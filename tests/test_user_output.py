"""What a user meets in a plain run: a clean model costs one line, a finding the probe
refuted does not fail the run (unless ``refuted = "keep"``), a missing torch is one
notice and not a finding, and the summary line counts findings by severity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_gradlint
from gradlint.findings import Finding, Severity
from gradlint.report.text import summary_line
from gradlint.runner import RunResult

HEALTHY = """import torch.nn as nn


def build():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
"""
# 15 Kaiming-initialised Linear+ReLU layers: GL104 and GL105 fire statically, and the
# probe measures healthy signals (backward ratio ~0.3), so it refutes both
PLAIN_DEEP = """import torch.nn as nn


def build():
    layers = []
    for _ in range(14):
        linear = nn.Linear(64, 64)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(64, 4))
"""
NO_ZERO_GRAD = "for x, y in loader:\n    loss = loss_fn(model(x), y)\n    loss.backward()\n    optimizer.step()\n"
ENV = {"OMP_NUM_THREADS": "1"}


def _project(tmp_path: Path, files: dict[str, str], config: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\n" + config)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def _finding(code: str, severity: Severity) -> Finding:
    return Finding(code, "x", severity, "a.py", 1, 1, 1, 2, "m")


def test_summary_counts_by_severity():
    errors = [_finding("GL206", Severity.ERROR)] * 2
    assert summary_line(RunResult(findings=errors)) == "Found 2 errors."
    mixed = errors + [_finding("GL104", Severity.WARNING), _finding("GL003", Severity.INFO)]
    assert summary_line(RunResult(findings=mixed)) == "Found 4 findings (2 errors, 1 warning, 1 info finding)."
    assert summary_line(RunResult(findings=[_finding("GL104", Severity.WARNING)] * 12)) == "Found 12 warnings."
    assert summary_line(RunResult()) == "All checks passed!"


def test_healthy_model_costs_one_line_and_show_probe_draws_its_chart(tmp_path):
    pytest.importorskip("torch")
    project = _project(tmp_path, {"healthy.py": HEALTHY})
    plain = run_gradlint("--no-cache", "--device", "cpu", cwd=project, env=ENV)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert plain.stdout.splitlines() == ["All checks passed! (1 model analysed, 1 probed; --show-probe draws their charts)"]
    shown = run_gradlint("--no-cache", "--device", "cpu", "--show-probe", cwd=project, env=ENV)
    lines = shown.stdout.splitlines()
    assert lines[0] == "model build:" and "gradient norm by layer (log scale, " in shown.stdout
    assert lines[-1] == "All checks passed! (1 model analysed, 1 probed)"
    assert [l.split()[:2] for l in lines if "|" in l] == [["0", "Linear"], ["2", "Linear"]]


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_refuted_findings_are_info_and_do_not_fail_the_run(tmp_path, output_format):
    pytest.importorskip("torch")
    project = _project(tmp_path, {"plain.py": PLAIN_DEEP})
    done = run_gradlint("--no-cache", "--device", "cpu", "--output-format", output_format, cwd=project, env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    if output_format == "text":
        assert "plain.py:4:1: GL104 " in out and "probe: refuted (backward_signal_ratio=" in out
        assert "reported as info" in out and out.splitlines()[-1] == "Found 2 info findings."
    elif output_format == "json":
        found = {f["code"]: f for f in json.loads(out)["findings"]}
        assert set(found) == {"GL104", "GL105"}
        assert {(f["severity"], f["confirmation"]["status"]) for f in found.values()} == {("info", "refuted")}
    elif output_format == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        assert sorted((r["ruleId"], r["level"]) for r in results) == [("GL104", "note"), ("GL105", "note")]
    else:
        assert [l.split(" ", 1)[0] for l in out.splitlines()] == ["::notice", "::notice"]


def test_refuted_keep_keeps_the_rule_severity(tmp_path):
    pytest.importorskip("torch")
    project = _project(tmp_path, {"plain.py": PLAIN_DEEP}, 'refuted = "keep"\n')
    done = run_gradlint("--no-cache", "--device", "cpu", "--output-format", "json", cwd=project, env=ENV)
    assert done.returncode == 1
    assert {f["severity"] for f in json.loads(done.stdout)["findings"]} == {"warning"}


def test_bad_refuted_value_is_a_config_error(tmp_path):
    project = _project(tmp_path, {"a.py": "x = 1\n"}, 'refuted = "drop"\n')
    done = run_gradlint(cwd=project)
    assert done.returncode == 2
    assert done.stderr.strip().endswith("'refuted' must be one of info, keep")


def _no_torch_project(tmp_path: Path, files: dict[str, str]) -> tuple[Path, dict]:
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "torch.py").write_text("raise ImportError(\"No module named 'torch'\")\n")
    project = tmp_path / "project"
    project.mkdir()
    return _project(project, files), {"PYTHONPATH": str(shim)}


def test_without_torch_a_model_file_alone_is_one_notice_and_exit_0(tmp_path):
    project, env = _no_torch_project(tmp_path, {"healthy.py": HEALTHY})
    done = run_gradlint("--no-cache", cwd=project, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "Models: 1 found, 0 analysed, 1 not analysed in this environment (see above).",
        "All checks passed for what was analysed; 1 model(s) were not analysed (see above).",
    ]  # never a bare "All checks passed!" over a model that was not analysed (issue 13)
    notices = done.stderr.splitlines()
    assert len(notices) == 1 and notices[0].startswith("gradlint: notice: torch is not installed here (ImportError")
    assert "1 model(s) not analysed" in notices[0]
    data = json.loads(run_gradlint("--no-cache", "--output-format", "json", cwd=project, env=env).stdout)
    assert data["findings"] == [] and data["models"][0]["status"] == "not analysed"
    assert len(data["notices"]) == 1 and "torch is not installed" in data["notices"][0]
    github = run_gradlint("--no-cache", "--output-format", "github", cwd=project, env=env)
    assert github.returncode == 0 and github.stdout.startswith("::notice title=gradlint::torch is not installed here")


def test_without_torch_training_findings_still_fail_the_run(tmp_path):
    project, env = _no_torch_project(tmp_path, {"healthy.py": HEALTHY, "train.py": NO_ZERO_GRAD})
    done = run_gradlint("--no-cache", cwd=project, env=env)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith("train.py:1:1: GL206 ")
    assert " GL002 " not in done.stdout and done.stderr.count("gradlint: notice:") == 1


@pytest.mark.parametrize("argv", [["explain", "missing-zero-grad"], ["rule", "GL206"], ["rule", "missing-zero-grad"],
                                  ["explain", "gl206"]])
def test_explain_by_name_and_ruffs_rule_spelling(argv):
    done = run_gradlint(*argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# GL206: missing-zero-grad\n")


def test_explain_unknown_name_suggests_the_close_one():
    done = run_gradlint("explain", "missing-zero-gard")
    assert done.returncode == 2
    assert done.stderr == ("gradlint: error: unknown rule 'missing-zero-gard': did you mean 'missing-zero-grad'? "
                           "`gradlint rules` lists every code and name\n")


def test_fixable_line_says_where_the_flag_goes_under_pre_commit(tmp_path):
    project = _project(tmp_path, {"train.py": NO_ZERO_GRAD})
    plain = run_gradlint("--no-exec", cwd=project)
    assert plain.stdout.splitlines()[-1] == "[*] 1 fixable with the `--fix` option."
    hooked = run_gradlint("--no-exec", cwd=project, env={"PRE_COMMIT": "1"})
    assert hooked.stdout.splitlines()[-1] == ("[*] 1 fixable: add `args: [--fix]` to the gradlint hook in "
                                              ".pre-commit-config.yaml, or run `gradlint --fix` on these files.")
