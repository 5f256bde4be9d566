"""The probe end to end through the real command: findings, confirmations, the chart
under each probed model, JSON/SARIF evidence, --report, and the probe flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

MODEL = '''import torch.nn as nn


def build():
    layers = []
    for _ in range(20):
        layers += [nn.Linear(32, 32), nn.Tanh()]
    return nn.Sequential(*layers, nn.Linear(32, 4))
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\n")
    (tmp_path / "model.py").write_text(MODEL)
    return tmp_path


def test_text_report_shows_measured_findings_confirmations_and_chart(project, gradlint):
    report = project / "probe.html"
    done = gradlint("model.py", "--no-cache", "--device", "cpu", "--report", str(report), cwd=project)
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "model.py:7:20: GL301 measured: the gradient reaching '0' (Linear)" in out
    assert "GL102" in out and "probe: confirmed (backward_signal_ratio=" in out
    chart = [line for line in out.splitlines() if line.startswith("  0 Linear ") or line.startswith("  40 Linear ")]
    assert len(chart) == 2 and all("|" in line for line in chart)
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "GL301" in page


def test_json_carries_the_probe_table_and_evidence(project, gradlint):
    done = gradlint("model.py", "--no-cache", "--output-format", "json", "--probe-steps", "2",
                    "--probe-dtype", "bfloat16", "--device", "cpu", cwd=project)
    data = json.loads(done.stdout)
    model = data["models"][0]
    probe = model["probe"]
    assert (probe["steps"], probe["dtype"], probe["device"]) == (2, "bfloat16", "cpu")
    assert len(probe["grad_norm_per_step"]) == 2 and len(probe["layers"]) == 21
    assert probe["layers"][0]["line"] == 7 and probe["layers"][0]["path"] == "model.py"
    static = [f for f in data["findings"] if f["code"].startswith("GL1")]
    assert static and all(f["confirmation"]["status"] in ("confirmed", "refuted") for f in static)
    gl301 = [f for f in data["findings"] if f["code"] == "GL301"]
    assert gl301 and gl301[0]["confirmation"]["evidence"]["ratio"] < 1e-4


def test_sarif_properties_and_no_probe(project, gradlint):
    done = gradlint("model.py", "--no-cache", "--output-format", "sarif", "--no-probe", cwd=project)
    results = json.loads(done.stdout)["runs"][0]["results"]
    assert not [r for r in results if r["ruleId"].startswith("GL3")]
    static = [r for r in results if r["ruleId"].startswith("GL1")]
    assert static and {r["properties"]["confirmation"] for r in static} == {"not-probed"}
    assert "--no-probe" in static[0]["properties"]["evidence"]["reason"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message when CUDA is missing")
def test_device_cuda_without_cuda_is_gl002(project, gradlint):
    done = gradlint("model.py", "--no-cache", "--output-format", "json", "--device", "cuda", cwd=project)
    messages = [f["message"] for f in json.loads(done.stdout)["findings"] if f["code"] == "GL002"]
    assert messages and "CUDA is not available" in messages[0]
