"""Probe false alarms found on real model zoos (issue 12), each as a small model of its
own: what must not fire on a model that trains, and what must still fire beside it."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from probe_support import measured_codes, probe  # noqa: E402


class SqueezeExcite(nn.Module):
    """Channel attention on globally pooled features: on noise images every sample pools to
    nearly the same vector, so each ReLU unit is on for all samples or for none."""

    def __init__(self, channels: int, reduced: int, bias: float = 0.0) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.act = nn.ReLU()
        self.expand = nn.Conv2d(reduced, channels, 1)
        nn.init.constant_(self.reduce.bias, bias)

    def forward(self, x):
        return x * torch.sigmoid(self.expand(self.act(self.reduce(x.mean((2, 3), keepdim=True)))))


class SENet(nn.Module):
    def __init__(self, se_bias: float = 0.0) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.norm = nn.BatchNorm2d(32)
        self.se = SqueezeExcite(32, 8, se_bias)
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        return self.head(self.se(torch.relu(self.norm(self.stem(x)))).mean((2, 3)))


def test_relu_inside_squeeze_excitation_is_not_dead_on_pooled_noise():
    torch.manual_seed(0)
    result = probe(SENet(), candidate={"input": "float32[8,3,16,16]"})
    [act] = [a for a in result["activations"] if a["name"] == "se.act"]
    assert act["dead"] is None  # the batch does not vary there: not judged
    assert "GL304" not in measured_codes(result)


def test_a_squeeze_excitation_relu_that_is_really_dead_is_still_reported():
    torch.manual_seed(0)
    result = probe(SENet(se_bias=-50.0), candidate={"input": "float32[8,3,16,16]"})
    [act] = [a for a in result["activations"] if a["name"] == "se.act"]
    assert act["dead"] == 1.0
    assert "GL304" in measured_codes(result)
