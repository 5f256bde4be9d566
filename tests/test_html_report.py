"""The --report page: summary, command/version/date, contents, labelled chart with a
legend, no empty columns, a reused layer once, and why nothing was analysed."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import run_gradlint
from gradlint import __version__
from gradlint.findings import Confirmation, Finding, Severity
from gradlint.report.html import html_report


def _layer(name: str, grad: float) -> dict:
    return {"name": name, "type": "Linear", "path": "net.py", "line": 7, "grad_norm": grad, "weight_norm": 1.0,
            "grad_weight_ratio": grad, "backward_signal": grad / 10, "forward_signal": 0.5}


def _models() -> list[dict]:
    reused_relu = [{"name": "act", "type": "ReLU", "path": "net.py", "line": 8, "saturated": None, "dead": dead,
                    "head": False} for dead in (0.0, 0.19, 0.56, 0.31)]
    gelu = {"name": "gelu", "type": "GELU", "path": "net.py", "line": 9, "saturated": None, "dead": None, "head": False}
    probe = {"device": "cpu", "dtype": "float32", "input": "float32[8,16]", "loss": "cross-entropy", "steps": 1,
             "global_grad_norm": 1.0, "layers": [_layer(f"layers.{i}", 10.0 ** -i) for i in range(4)],
             "activations": reused_relu + [gelu]}
    return [{"name": "Net", "path": "net.py", "line": 4, "status": "analysed", "probe": probe},
            {"name": "Other", "path": "other.py", "line": 3, "status": "failed", "error": "ImportError: no module x"}]


def _findings() -> list[Finding]:
    confirmed = Finding("GL102", "default-init-deep", Severity.WARNING, "net.py", 7, 1, 7, 2, "default init", model="Net",
                        confirmation=Confirmation("confirmed", {"backward_signal_ratio": 0.001}))
    refuted = Finding("GL104", "deep-plain-network", Severity.INFO, "net.py", 4, 1, 4, 2, "plain", model="Net",
                      confirmation=Confirmation("refuted", {}))
    loop = Finding("GL206", "missing-zero-grad", Severity.ERROR, "train.py", 3, 1, 3, 9, "no zero_grad")
    return [confirmed, refuted, loop]


def test_summary_meta_contents_and_legend():
    page = html_report(_models(), _findings(), command="gradlint --report r.html net.py", date="2026-11-28 21:00 UTC")
    assert f"gradlint {__version__}, 2026-11-28 21:00 UTC — <code>gradlint --report r.html net.py</code>" in page
    assert "<th>models</th><td class=l>2 (1 probed)</td>" in page
    assert "<th>findings</th><td class=l>3: 1 error, 1 warning, 1 info</td>" in page
    assert "<th>what the probe said</th><td class=l>1 confirmed, 1 refuted, 1 not-probed</td>" in page
    assert page.index("<h2>Contents</h2>") < page.index('<h2 id="model-1">')
    assert '<a href="#model-1">Net</a> — 2 findings, analysed and probed' in page
    assert '<a href="#model-2">Other</a> — 0 findings, not loaded: ImportError: no module x' in page
    for label in ("confirmed by the probe", "refuted by the probe", "neither: not probed (static only)"):
        assert label in page
    assert '<li class="finding confirmed">' in page and '<li class="finding refuted">' in page
    assert "train.py:3: GL206 (error) no zero_grad" in page  # findings of no model are listed too
    assert "src=" not in page and "<link" not in page  # self-contained


def test_chart_has_axis_labels():
    page = html_report(_models(), _findings())
    assert "weight layers in forward order (first → last, 4)" in page
    assert re.search(r"rotate\(-90\)\" text-anchor=\"middle\">norm \(log scale, [^)]+ to 1\)", page)
    assert "weight-gradient norm (bars)" in page and "backward signal" in page


def test_reused_layer_once_with_call_count_and_no_empty_columns():
    page = html_report(_models(), _findings())
    activations = page.split("<h3>Activations</h3>")[1].split("</table>")[0]
    assert activations.count("<tr>") == 2  # header and one row for the ReLU called 4 times
    assert "<th>calls</th>" in activations and "<td>4</td>" in activations and "<td>0.56</td>" in activations
    assert "saturated" not in activations  # a ReLU has no saturation: no empty column
    assert "gelu" not in activations and "1 activation (e.g. GELU) neither saturate" in page
    layers = page.split("<h3>Weight layers</h3>")[1].split("</table>")[0]
    assert "<th>calls</th>" not in layers  # every weight layer ran once


def test_without_torch_the_page_says_why_no_model_was_analysed(tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "torch.py").write_text("raise ImportError(\"No module named 'torch'\")\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.gradlint]\n")
    (project / "net.py").write_text("import torch.nn as nn\n\n\ndef build():\n    return nn.Linear(2, 2)\n")
    report = project / "report.html"
    done = run_gradlint("--no-cache", "--report", str(report), cwd=project, env={"PYTHONPATH": str(shim)})
    assert done.returncode == 0, done.stderr
    page = report.read_text()
    assert '<p class="notice">torch is not installed here (ImportError: No module named' in page
    assert "not analysed: torch is not installed here" in page
    assert f"<code>gradlint --no-cache --report {report}</code>" in page
