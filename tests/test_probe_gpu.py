"""The probe on a CUDA device. Skipped cleanly where there is no CUDA; run on a GPU
machine with ``pytest tests/test_probe_gpu.py``."""

from __future__ import annotations

import copy

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from probe_support import measured_codes, mlp, probe  # noqa: E402

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_cuda_probe_matches_the_cpu_numbers():
    model = mlp(6, "kaiming", width=64)
    on_cpu = probe(copy.deepcopy(model), device="cpu")
    on_gpu = probe(copy.deepcopy(model), device="cuda")
    assert on_gpu["device"].startswith("cuda")
    for cpu_layer, gpu_layer in zip(on_cpu["layers"], on_gpu["layers"]):
        for key in ("grad_norm", "weight_norm", "backward_signal", "forward_signal"):
            assert gpu_layer[key] == pytest.approx(cpu_layer[key], rel=2e-3), (cpu_layer["name"], key)


def test_auto_picks_cuda_and_the_literature_case_holds_there():
    result = probe(mlp(30, "xavier"), device="auto")
    assert result["device"].startswith("cuda")
    assert {"GL301", "GL305"} <= set(measured_codes(result))


def test_cuda_probe_moves_data_to_the_host_once(monkeypatch):
    transfers = {"tolist": 0}
    tolist = torch.Tensor.tolist

    def counting(self):
        transfers["tolist"] += 1
        return tolist(self)

    def no_item(self):
        raise AssertionError("the probe must not call .item()")

    monkeypatch.setattr(torch.Tensor, "tolist", counting)
    monkeypatch.setattr(torch.Tensor, "item", no_item)
    result = probe(mlp(4, "kaiming", width=32), device="cuda", steps=3)
    assert result["steps"] == 3 and transfers["tolist"] == 1


def test_float16_overflow_shows_as_exploding_gradients():
    torch.manual_seed(0)
    layers = []
    for _ in range(4):
        layer = nn.Linear(64, 64)
        nn.init.normal_(layer.weight, std=8.0)
        layers.append(layer)
    model = nn.Sequential(*layers, nn.Linear(64, 64))
    result = probe(model, device="cuda", dtype="float16")
    assert result["dtype"] == "float16" and result["nonfinite"]
    message = measured_codes(result)["GL302"][0]
    assert "float16 overflow" in message and "clip_grad_norm_" in message
    assert "GL302" not in measured_codes(probe(mlp(4, "kaiming", width=64), device="cuda", dtype="float16"))


def test_bfloat16_on_cuda():
    result = probe(mlp(4, "kaiming", width=64), device="cuda", dtype="bfloat16")
    assert result["dtype"] == "bfloat16" and result["global_grad_norm"] > 0
