"""The fixtures under fixtures/models, analysed in one real run: no false alarms on the
healthy architectures, the expected findings (code and user line) on the broken twins,
the JSON models summary and the text grouping."""

from __future__ import annotations

import io
import json
import os

import pytest

from conftest import FIXTURES, ROOT
from gradlint.config import Settings
from gradlint.report.json_report import to_json
from gradlint.report.text import render_text
from gradlint.runner import RunOptions, run

MODELS = FIXTURES / "models"
HEALTHY = ["resnet_bn.py", "gpt_preln.py", "lstm_lm.py", "unet.py", "vgg_bn.py", "mlp_sigmoid_head.py"]
# file -> the (code, line, column) findings it must give, and nothing else
EXPECTED = {
    "deep_sigmoid_mlp.py": {("GL101", 8, 39), ("GL102", 8, 20)},
    "deep_relu_mlp.py": {("GL102", 10, 32), ("GL104", 5, 1), ("GL105", 5, 1)},
    "tanh_stack.py": {("GL101", 16, 17)},
    "vanilla_rnn.py": {("GL106", 9, 20)},
    "untraceable.py": set(),  # recorded as executed: no GL003 (issue 13)
    "broken.py": {("GL002", 5, 1)},
}


@pytest.fixture(scope="module")
def result():
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        settings = Settings(root=ROOT)
        settings.probe["enabled"] = False
        return run([str(MODELS.relative_to(ROOT))], settings, RunOptions())
    finally:
        os.chdir(cwd)


def _by_file(result, name):
    return {(f.code, f.line, f.column) for f in result.findings if f.path.endswith(f"models/{name}")}


@pytest.mark.parametrize("name", HEALTHY)
def test_healthy_architecture_has_no_finding(result, name):
    assert _by_file(result, name) == set()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_twin_findings_at_user_lines(result, name):
    assert _by_file(result, name) == EXPECTED[name]


def test_every_finding_is_in_the_project(result):
    for finding in result.findings:
        assert finding.path.startswith("fixtures/models/"), finding
        assert "torch" not in finding.path


def test_models_summary(result):
    models = {m["name"]: m for m in to_json(result)["models"]}
    # blocks with default arguments used inside GPT are not reported as models of their own
    assert "Block" not in models and "CausalSelfAttention" not in models
    resnet = models["ResNet"]
    assert (resnet["residual_merges"], resnet["normalization_layers"], resnet["init"]) == (8, 20, "kaiming")
    assert resnet["depth"] == 21 and resnet["longest_path"] == 18
    gpt = models["GPT"]
    assert (gpt["residual_merges"], gpt["normalization_layers"], gpt["traced"]) == (12, 13, True)
    assert "recorded as executed" in gpt["trace_note"]  # the assert on the sequence length stops fx
    assert models["UNet"]["residual_merges"] == 4
    assert models["DeepMLP"]["init"] == "default" and models["DeepMLP"]["longest_path"] == 20
    assert models["TanhStack"]["init"] == "xavier"
    # fx cannot iterate over a tensor's rows: the structure is the real forward as executed
    assert (models["RowWise"]["traced"], models["RowWise"]["depth"], models["RowWise"]["longest_path"]) == (True, 2, 2)
    assert models["RowWise"]["trace_note"].startswith("recorded as executed for this input, float32[8,16]")
    assert models["NeedsCheckpoint"]["status"] == "failed" and "FileNotFoundError" in models["NeedsCheckpoint"]["error"]
    first = models["VGG16BN"]["layers"][0]
    assert (first["name"], first["type"], first["line"], first["init"]) == ("features.0", "Conv2d", 15, "other")  # 3-channel stem: Kaiming fan-out and Xavier are 2% apart
    json.dumps(to_json(result))  # plain data


def test_text_report_groups_findings_under_the_model(result):
    stream = io.StringIO()
    render_text(result, Settings(), stream)
    lines = stream.getvalue().splitlines()
    header = lines.index("model DeepMLP:")
    assert [l.split(" ")[1] for l in lines[header + 1: header + 4]] == ["GL104", "GL105", "GL102"]
    assert lines[header + 1].startswith("fixtures/models/deep_relu_mlp.py:5:1:")


def test_messages_name_the_layer_and_the_fix(result):
    messages = {f.code: f.message for f in result.findings if "deep_relu" in f.path or "vanilla" in f.path}
    assert "'layers.0'" in messages["GL102"] and "kaiming_normal_" in messages["GL102"]
    assert "'rnn'" in messages["GL106"] and "nn.LSTM" in messages["GL106"]
