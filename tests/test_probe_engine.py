"""The probe engine on nn.Modules in this process: inputs, loss, measurements, cost
discipline (one foreach norm, one transfer), errors, confirmations and pictures."""

from __future__ import annotations

import copy
import json
import re

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from gradlint.config import Settings  # noqa: E402
from gradlint.findings import Finding, Severity  # noqa: E402
from gradlint.probe.entry import probe_model  # noqa: E402
from gradlint.probe.inputs import split_specs  # noqa: E402
from probe_support import mlp, probe, summarize  # noqa: E402


class Functional(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(16, 32), nn.Linear(32, 32), nn.Linear(32, 4)
        nn.init.constant_(self.fc1.bias, -50.0)  # every unit of the first relu dead

    def forward(self, x):
        return self.fc3(torch.sigmoid(self.fc2(F.relu(self.fc1(x)))))


def test_functional_activations_are_measured_through_the_fx_graph():
    result = probe(Functional())
    acts = {a["name"]: a for a in result["activations"]}
    assert set(acts) == {"relu", "sigmoid"}
    assert acts["relu"]["dead"] == 1.0 and acts["relu"]["saturated"] is None
    assert acts["sigmoid"]["saturated"] is not None and acts["sigmoid"]["dead"] is None
    assert result["functional_activations_seen"] is True
    # without a graph, functional activations cannot be seen (module ones still are)
    assert probe(Functional(), trace=False)["activations"] == []
    module_only = probe(nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)), trace=False)
    assert [a["name"] for a in module_only["activations"]] == ["1"]


def test_layers_in_forward_order_with_every_measurement():
    result = probe(mlp(3, "kaiming", width=16))
    names = [layer["name"] for layer in result["layers"]]
    assert names == ["0", "2", "4", "6"]
    for layer in result["layers"]:
        assert layer["grad_norm"] > 0 and layer["weight_norm"] > 0 and layer["called"]
        assert layer["grad_weight_ratio"] == pytest.approx(layer["grad_norm"] / layer["weight_norm"])
        assert layer["backward_signal"] > 0 and layer["forward_signal"] > 0
    assert result["loss"] == "cross-entropy" and result["steps"] == 1
    json.dumps(result, allow_nan=False)  # plain, JSON-safe data


def test_measurements_match_a_hand_computation():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    reference = copy.deepcopy(model)
    result = probe(model, candidate={"input": "float32[5,4]"})
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(5, 4, generator=generator)
    hidden = reference[0](x)
    hidden.retain_grad()
    out = reference[2](reference[1](hidden))
    target = torch.randn(5, 1, generator=generator)
    F.mse_loss(out, target).backward()
    first = result["layers"][0]
    assert result["loss"] == "mse"
    assert first["grad_norm"] == pytest.approx(reference[0].weight.grad.norm().item(), rel=1e-5)
    assert first["forward_signal"] == pytest.approx(hidden.pow(2).mean().sqrt().item(), rel=1e-5)
    assert first["backward_signal"] == pytest.approx(hidden.grad.pow(2).mean().sqrt().item(), rel=1e-5)
    total = sum(p.grad.norm() ** 2 for p in reference.parameters()).sqrt().item()
    assert result["global_grad_norm"] == pytest.approx(total, rel=1e-5)


def test_one_foreach_norm_per_step_and_one_transfer(monkeypatch):
    calls = {"foreach": 0, "tolist": 0, "item": 0}
    foreach, tolist = torch._foreach_norm, torch.Tensor.tolist

    def counting_foreach(*args, **kwargs):
        calls["foreach"] += 1
        return foreach(*args, **kwargs)

    def counting_tolist(self):
        calls["tolist"] += 1
        return tolist(self)

    def no_item(self):
        calls["item"] += 1
        raise AssertionError("the probe must not call .item()")

    monkeypatch.setattr(torch, "_foreach_norm", counting_foreach)
    monkeypatch.setattr(torch.Tensor, "tolist", counting_tolist)
    monkeypatch.setattr(torch.Tensor, "item", no_item)
    result = probe(mlp(4, "kaiming", width=16), steps=3)
    assert result["steps"] == 3 and len(result["grad_norm_per_step"]) == 3
    # one per step (the first step's also takes the weights); one transfer
    assert calls == {"foreach": 3, "tolist": 1, "item": 0}


def test_deterministic_on_cpu_for_a_seed():
    model = mlp(4, "default", width=16)
    first = probe(copy.deepcopy(model), seed=3, steps=2)
    second = probe(copy.deepcopy(model), seed=3, steps=2)
    other = probe(copy.deepcopy(model), seed=4, steps=2)
    keys = ("layers", "activations", "global_grad_norm", "grad_norm_per_step", "loss_per_step")
    assert {k: first[k] for k in keys} == {k: second[k] for k in keys}
    assert first["global_grad_norm"] != other["global_grad_norm"]


def test_input_spec_with_several_inputs_and_integer_ranges():
    assert split_specs("float32[8,4], int64[8](0,10)") == ["float32[8,4]", "int64[8](0,10)"]
    assert split_specs(["float32[2,3]", "int64[2](5)"]) == ["float32[2,3]", "int64[2](5)"]

    class TwoInputs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed, self.fc = nn.Embedding(10, 4), nn.Linear(4, 3)

        def forward(self, x, ids):
            return self.fc(x + self.embed(ids))

    result = probe(TwoInputs(), candidate={"input": "float32[6,4], int64[6](0,10)"})
    assert result["input"] == "float32[6,4], int64[6]" and result["input_source"] == "config"
    bad = probe(TwoInputs(), candidate={"input": "float32[6,4], int64[6](0,1000)"})  # ids past the table
    assert bad["error"]["kind"] == "failed" and "IndexError" in bad["error"]["message"]
    wrong = probe(TwoInputs(), candidate={"input": "floaty[6,4]"})
    assert wrong["error"]["kind"] == "no-input" and "dtype[shape]" in wrong["error"]["message"]


def test_input_from_example_functions_and_lightning_attribute():
    model = nn.Sequential(nn.Linear(5, 2))
    result = probe(model, trace=False, module_globals={"example_input": lambda: torch.ones(3, 5)})
    assert (result["input_source"], result["input"]) == ("example_input", "float32[3,5]")
    result = probe(model, trace=False, module_globals={"example_inputs": lambda: (torch.ones(2, 5),)})
    assert result["input_source"] == "example_inputs"
    model.example_input_array = torch.ones(4, 5)
    assert probe(model, trace=False)["input_source"] == "example_input_array"
    raising = probe(nn.Sequential(nn.Linear(5, 2)), module_globals={"example_input": lambda: 1 / 0})
    assert raising["error"]["kind"] == "no-input" and "ZeroDivisionError" in raising["error"]["message"]


@pytest.mark.parametrize("layer,expected", [
    (nn.Linear(7, 3), "float32[32,7]"),
    (nn.Conv2d(3, 4, 3), "float32[32,3,32,32]"),
    (nn.Conv1d(2, 4, 3), "float32[32,2,64]"),
    (nn.Embedding(50, 8), "int64[32,16]"),
    (nn.LSTM(6, 8, batch_first=True), "float32[32,16,6]"),
    (nn.GRU(6, 8), "float32[16,32,6]"),
])
def test_input_inferred_from_the_first_layer(layer, expected):
    class Wrap(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = layer

        def forward(self, x):
            out = self.first(x)
            return out[0] if isinstance(out, tuple) else out

    result = probe(Wrap(), trace=False)
    assert "error" not in result, result
    assert result["input"].startswith(expected + " (inferred from the first layer first")


class LeNet(nn.Module):
    """LeNet-5 for MNIST: its classifier is sized for 28x28 images."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


class PatchMixer(nn.Module):
    """A Mixer-style model: 16x16 patches of a 224x224 image, mixed over its 196 tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 16, stride=16)
        self.tokens = nn.Linear(196, 196)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        x = self.stem(x).flatten(2)  # [B, 8, 196]
        return self.head(self.tokens(x).mean(-1))


@pytest.mark.parametrize("model_class,expected", [(LeNet, "float32[32,1,28,28]"), (PatchMixer, "float32[32,3,224,224]")])
def test_conv_input_size_is_the_first_the_whole_model_accepts(model_class, expected):
    model = model_class()
    model.train()
    result = probe(model)
    assert "error" not in result, result
    assert result["input"] == expected + " (inferred from the first layer " + ("conv1" if model_class is LeNet else "stem") + ": Conv2d)"
    assert all(module.training for module in model.modules())  # the size search leaves train mode on
    assert result["global_grad_norm"] > 0


def test_no_input_says_what_to_add():
    class Opaque(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1))

        def forward(self, x):
            return x * self.scale

    result = probe(Opaque(), trace=False)
    assert result["error"]["kind"] == "no-input"
    assert "[[tool.gradlint.models]]" in result["error"]["message"] and "example_input()" in result["error"]["message"]


def test_loss_choice_by_output():
    class Out(nn.Module):
        def __init__(self, kind: str) -> None:
            super().__init__()
            self.fc, self.kind = nn.Linear(4, 3), kind

        def forward(self, x):
            out = self.fc(x)
            if self.kind == "dict":
                return {"logits": out, "hidden": x}
            if self.kind == "own":
                return {"loss": out.pow(2).mean(), "logits": out}
            if self.kind == "tuple":
                return out.unsqueeze(-1).unsqueeze(-1), x
            return out

    assert probe(Out("plain"), trace=False)["loss"] == "cross-entropy"
    assert probe(Out("dict"), trace=False)["loss"] == "cross-entropy"
    assert probe(Out("own"), trace=False)["loss"] == "the model's own loss"
    assert probe(Out("tuple"), trace=False)["loss"] == "mse"


def test_errors_are_one_line_and_never_raise():
    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            raise RuntimeError("boom\nsecond line")

    result = probe(Broken(), trace=False)
    assert result["error"]["kind"] == "failed" and "RuntimeError: boom" in result["error"]["message"]
    assert "\n" not in result["error"]["message"]
    assert probe_model("not a model", None, None, None, None, {})["error"]["kind"] == "failed"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message when CUDA is missing")
def test_cuda_without_cuda_is_a_clear_error():
    result = probe(mlp(2, width=8), device="cuda")
    assert result["error"] == {"kind": "failed", "message": result["error"]["message"]}
    assert "CUDA is not available" in result["error"]["message"]


def test_bfloat16_autocast_on_cpu():
    result = probe(mlp(3, "kaiming", width=16), dtype="bfloat16")
    assert result["dtype"] == "bfloat16" and result["global_grad_norm"] > 0


def test_zero_initialised_head_is_not_vanishing():
    model = mlp(4, "kaiming", width=16)
    nn.init.zeros_(model[-1].weight)
    summary = summarize(probe(model))
    assert summary.has_zero_layer and summary.backward_ratio() is None


def test_apply_probe_confirms_refutes_and_reports_not_probed():
    from gradlint.model.graph import ModelGraph
    from gradlint.probe.confirm import apply_probe

    def static(code: str) -> Finding:
        return Finding(code, "x", Severity.WARNING, "m.py", 3, 1, 3, 2, "risk", model="m")

    graph = ModelGraph({"name": "m", "file": "m.py", "line": 1, "layers": [], "activations": []})
    bad, good = probe(mlp(20, "default", activation="tanh")), probe(mlp(4, "kaiming", width=16))
    findings = [static("GL102"), static("GL101")]
    summary: dict = {}
    measured = apply_probe(graph, bad, summary, findings, Settings())
    assert [f.code for f in measured] == ["GL301"] and measured[0].confirmation.status == "confirmed"
    assert findings[0].confirmation.status == "confirmed"
    assert findings[0].confirmation.evidence["backward_signal_ratio"] < 1e-4
    assert [layer["name"] for layer in summary["probe"]["layers"]][:2] == ["0", "2"]
    refuted = [static("GL102")]
    apply_probe(graph, good, {}, refuted, Settings())
    assert refuted[0].confirmation.status == "refuted"
    quiet_rnn = [static("GL106")]  # the risk is through time, which the probe does not measure
    apply_probe(graph, good, {}, quiet_rnn, Settings())
    assert quiet_rnn[0].confirmation.status == "not-probed"
    assert "not through time" in quiet_rnn[0].confirmation.evidence["reason"]
    unprobed = [static("GL104")]
    assert apply_probe(graph, {"error": {"kind": "no-input", "message": "add it"}}, {}, unprobed, Settings()) == []
    assert unprobed[0].confirmation.status == "not-probed" and unprobed[0].confirmation.evidence == {"reason": "add it"}


def test_text_chart_and_html_report():
    from gradlint.probe.chart import text_chart
    from gradlint.report.html import html_report
    from gradlint.probe.confirm import probe_table

    table = probe_table(summarize(probe(mlp(20, "default"))))
    chart = text_chart({"name": "m", "probe": table})
    rows = [line for line in chart.splitlines() if "|" in line]
    assert len(rows) == 21 and rows[0].split()[0] == "0" and rows[-1].split()[0] == "40"
    bars = [row.split("|")[1].rstrip() for row in rows]
    assert len(bars[-1]) > len(bars[0])  # log scale: the vanished first layer has the shortest bar
    page = html_report([{"name": "m", "path": "m.py", "line": 1, "probe": table}], [])
    assert page.count("<svg") == 1 and page.count("<rect") > 20 and "<table>" in page
    assert "src=" not in page and "<link" not in page and 'href="#' in page  # self-contained: in-page links only
    assert re.search(r'href="(?!#)', page) is None


def test_float16_overflow_is_exploding_gradients_on_cpu_autocast():
    from probe_support import measured_codes

    torch.manual_seed(0)
    layers = [nn.Linear(64, 64) for _ in range(4)]
    for layer in layers:
        nn.init.normal_(layer.weight, std=8.0)  # x64 per layer: past float16's 65504 by the fourth
    result = probe(nn.Sequential(*layers, nn.Linear(64, 64)), dtype="float16")
    assert result["nonfinite"] and result["global_grad_norm"] is None
    assert "float16 overflow" in measured_codes(result)["GL302"][0]
