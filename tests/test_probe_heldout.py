"""Regressions found by a held-out evaluation of the probe rules (GL301-GL305): models
written apart from the fixtures, with ground truth measured by an independent script."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from gradlint.probe.entry import probe_model  # noqa: E402
from probe_support import measured_codes, probe  # noqa: E402


class ZeroGammaBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(channels)
        self.c2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(channels)
        nn.init.zeros_(self.b2.weight)  # torchvision's zero_init_residual

    def forward(self, x):
        return torch.relu(x + self.b2(self.c2(torch.relu(self.b1(self.c1(x))))))


class ZeroGammaNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*[ZeroGammaBlock(8) for _ in range(3)])
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(self.blocks(x).mean((2, 3)))


def test_zero_initialised_norm_weight_is_deliberate_not_vanishing():
    torch.manual_seed(0)
    result = probe(ZeroGammaNet(), candidate={"input": "float32[8,8,8,8]"})
    first = result["layers"][0]
    # measured: the first step's gradient never reaches the branch convs (gamma 0 blocks it)...
    assert first["name"] == "blocks.0.c1" and first["backward_signal"] == 0.0
    assert result["zero_weights"] == ["blocks.0.b2.weight", "blocks.1.b2.weight", "blocks.2.b2.weight"]
    # ...which is the standard zero-init residual recipe, not vanishing gradients
    assert "GL301" not in measured_codes(result)


class Looped(nn.Module):
    """One small-init Linear reused twelve times: the signal collapses call by call."""

    def __init__(self) -> None:
        super().__init__()
        self.inp = nn.Linear(32, 64)
        self.core = nn.Linear(64, 64)
        nn.init.normal_(self.core.weight, std=0.01)
        nn.init.zeros_(self.core.bias)
        self.out = nn.Linear(64, 5)

    def forward(self, x):
        x = torch.relu(self.inp(x))
        for _ in range(12):
            x = torch.relu(self.core(x))
        return self.out(x)


def test_a_reused_layer_is_judged_by_each_call_for_signal_collapse():
    torch.manual_seed(0)
    result = probe(Looped())
    layers = {layer["name"]: layer for layer in result["layers"]}
    first, smallest, largest, calls = layers["core"]["forward_signal_span"]
    assert calls == 12 and first == largest  # the first call is the largest
    ratio = smallest / layers["inp"]["forward_signal"]
    assert ratio < 1e-12  # measured: the twelfth call's output, against the first layer's
    # the RMS over all twelve calls together is the first call's, well within 1e-3
    assert layers["core"]["forward_signal"] / layers["inp"]["forward_signal"] > 1e-3
    (message,) = measured_codes(result)["GL305"]
    assert "to 'core' (Linear, one of its 12 calls)" in message and f"a ratio of {ratio:.2e}" in message


class MeanPooledTokens(nn.Module):
    """A healthy pre-LN classifier that averages 4096 token positions before its head."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(64, 16)
        self.ln1, self.fc1, self.fc2 = nn.LayerNorm(16), nn.Linear(16, 32), nn.Linear(32, 16)
        self.ln2, self.cls = nn.LayerNorm(16), nn.Linear(16, 4)

    def forward(self, ids):
        x = self.emb(ids)
        x = x + self.fc2(torch.relu(self.fc1(self.ln1(x))))
        return self.cls(self.ln2(x).mean(1))


def test_mean_pooling_over_positions_is_not_vanishing():
    torch.manual_seed(0)
    result = probe(MeanPooledTokens(), candidate={"input": "int64[2,4096](0,64)"})
    layers = {layer["name"]: layer for layer in result["layers"]}
    # measured: per element, the gradient at the embedding is 1/4096-ish of the head's...
    rms_ratio = layers["emb"]["backward_signal"] / layers["cls"]["backward_signal"]
    assert rms_ratio == pytest.approx(6.76e-5, rel=0.01)  # below GL301's 1e-4
    # ...but the gradient as a whole (its norm, which GL301 reads) is not
    norm_ratio = layers["emb"]["backward_norm"] / max(layer["backward_norm"] for layer in layers.values())
    assert norm_ratio == pytest.approx(8.66e-3, rel=0.01)
    assert "GL301" not in measured_codes(result)


class TiedLoop(nn.Module):
    """The first weight layer itself reused ten times: its first call is the earliest."""

    def __init__(self) -> None:
        super().__init__()
        self.core = nn.Linear(48, 48)
        nn.init.normal_(self.core.weight, std=0.01)
        nn.init.zeros_(self.core.bias)
        self.out = nn.Linear(48, 6)

    def forward(self, x):
        for _ in range(10):
            x = torch.relu(self.core(x))
        return self.out(x)


def test_a_reused_first_layer_is_judged_by_its_first_call_for_vanishing():
    torch.manual_seed(0)
    result = probe(TiedLoop())
    core, out = result["layers"]
    first, smallest, largest, calls = core["backward_norm_span"]
    assert core["name"] == "core" and calls == 10 and first == smallest  # the first call gets the least
    ratio = first / max(largest, out["backward_norm"])
    assert ratio == pytest.approx(4.15e-13, rel=0.1)  # measured at the first call
    assert core["backward_norm"] / out["backward_norm"] > 1e-4  # all ten calls together hide it
    (message,) = measured_codes(result)["GL301"]
    assert message.startswith(f"measured: the gradient reaching 'core' (Linear, the first of its 10 calls) is {ratio:.2e}")


ENCODER_MODEL = '''import torch
import torch.nn as nn


class DeadFFN(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(16, 32)
        self.layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, activation="relu", batch_first=True)
        nn.init.constant_(self.layer.linear1.bias, -6.0)
        self.out = nn.Linear(32, 3)

    def forward(self, x):
        return self.out(self.layer(self.inp(x)).mean(1))


def example_input():
    return torch.randn(8, 10, 16)
'''


def test_the_relu_inside_torchs_transformer_layer_is_measured(tmp_path, gradlint):
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\n")
    (tmp_path / "model.py").write_text(ENCODER_MODEL)
    done = gradlint("model.py", "--no-cache", "--device", "cpu", "--output-format", "json", cwd=tmp_path)
    report = json.loads(done.stdout)
    (model,) = report["models"]
    (activation,) = model["probe"]["activations"]
    # F.relu is the layer's attribute, called inside a module fx keeps whole: it was never measured
    assert activation["name"] == "layer.activation" and activation["dead"] == 1.0
    (finding,) = [f for f in report["findings"] if f["code"] == "GL304"]
    assert "100% of the units of relu 'layer.activation' are never active" in finding["message"]
    # in this process: the wrapper is gone after the probe, torch's own F.relu is back
    namespace: dict = {}
    exec(ENCODER_MODEL, namespace)
    torch.manual_seed(0)
    dead_ffn = namespace["DeadFFN"]()
    graph = {"activations": [{"name": "layer.activation", "type": "relu", "module": False}]}
    result = probe_model(dead_ffn, None, graph, {"input": "float32[8,10,16]"}, None, {"device": "cpu", "seed": 0})
    assert result["activations"][0]["dead"] == 1.0
    assert dead_ffn.layer.activation is torch.nn.functional.relu
