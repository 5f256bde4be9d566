"""The probe's numbers against theory and the literature (issue 5, item 6)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from probe_support import measured_codes, mlp, probe, summarize  # noqa: E402


def test_xavier_on_30_layer_relu_mlp_collapses_while_kaiming_does_not():
    """He et al. 2015: a 30-layer ReLU net with Xavier init does not train, with Kaiming it does."""
    xavier = probe(mlp(30, "xavier"))
    kaiming = probe(mlp(30, "kaiming"))
    flagged = measured_codes(xavier)
    assert {"GL301", "GL305"} <= set(flagged), flagged
    assert not {"GL301", "GL302", "GL305"} & set(measured_codes(kaiming))
    x, k = summarize(xavier), summarize(kaiming)
    # each ReLU layer halves the variance under Xavier: about 2**-14 over 29 layers
    assert x.forward_ratio()[0] < 1e-3 and x.backward_ratio()[0] < 1e-4
    assert k.forward_ratio()[0] > 1e-2 and k.backward_ratio()[0] > 1e-2
    # ...while the weight-gradient norms stay level: why GL301 reads the backward signal
    grads = [layer.grad_norm for layer in x.layers]
    assert grads[0] / max(grads) > 0.05


def test_deep_tanh_mlp_vanishes_with_standard_init_and_not_with_xavier_or_batchnorm():
    """Glorot & Bengio 2010: standard init U[-1/sqrt(n), 1/sqrt(n)] (PyTorch's default)."""
    assert "GL301" in measured_codes(probe(mlp(20, "default", activation="tanh")))
    assert "GL301" not in measured_codes(probe(mlp(20, "xavier", activation="tanh")))
    assert "GL301" not in measured_codes(probe(mlp(20, "default", activation="tanh", batchnorm=True)))


def test_deep_sigmoid_mlp_vanishes_and_batchnorm_removes_it():
    assert "GL301" in measured_codes(probe(mlp(10, "default", activation="sigmoid")))
    normalised = probe(mlp(10, "default", activation="sigmoid", batchnorm=True))
    assert "GL301" not in measured_codes(normalised)
    assert summarize(normalised).backward_ratio()[0] > 1e-2


def test_tanh_with_unit_variance_init_saturates_and_xavier_removes_it():
    saturated = probe(mlp(6, "normal", activation="tanh"))
    fractions = [a.saturated for a in summarize(saturated).activations]
    assert min(fractions) > 0.5  # N(0,1) weights: pre-activations of std ~8
    assert "GL303" in measured_codes(saturated)
    clean = probe(mlp(6, "xavier", activation="tanh"))
    assert "GL303" not in measured_codes(clean)
    assert max(a.saturated for a in summarize(clean).activations) < 0.1


class _RNN(nn.Module):
    def __init__(self, scale: float) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.rnn = nn.RNN(8, 32, batch_first=True)
        with torch.no_grad():
            self.rnn.weight_hh_l0.copy_(scale * nn.init.orthogonal_(torch.empty(32, 32)))
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.rnn(x)[0])


def test_rnn_with_large_recurrent_scale_explodes_over_a_long_sequence():
    """Pascanu et al. 2013: the gradient through time multiplies by W_hh at every step."""
    long = measured_codes(probe(_RNN(3.0), candidate={"input": "float32[4,100,8]"}, **{"batch-size": 4}))
    assert "GL302" in long
    assert "clip_grad_norm_" in long["GL302"][0]
    short = probe(_RNN(3.0), candidate={"input": "float32[4,10,8]"})
    assert "GL302" not in measured_codes(short)
    small = probe(_RNN(0.5), candidate={"input": "float32[4,100,8]"})
    assert "GL302" not in measured_codes(small)
    assert short["global_grad_norm"] < 1e3 and small["global_grad_norm"] < 10


def test_default_init_shrinks_the_relu_signal_per_layer_as_its_variance_predicts():
    """Var(w) = 1/(3 fan_in) and ReLU keeps half: each layer scales the signal by
    sqrt(fan_in * Var(w) / 2) = 1/sqrt(6) = 0.408, forward (without biases, which add a
    floor) and backward (which has no floor)."""
    theory = 1 / math.sqrt(6)
    for bias in (False, True):
        result = summarize(probe(mlp(20, "default", width=256, bias=bias), **{"batch-size": 64}))
        backward = [layer.backward_signal for layer in result.layers]
        hidden = range(1, 18)  # away from the input layer and the 10-way head
        factor = math.exp(sum(math.log(backward[i] / backward[i + 1]) for i in hidden) / len(hidden))
        assert factor == pytest.approx(theory, rel=0.05), (bias, factor)
        assert all(abs(backward[i] / backward[i + 1] / theory - 1) < 0.2 for i in hidden)
    forward = [layer.forward_signal for layer in result.layers]
    no_bias = summarize(probe(mlp(20, "default", width=256, bias=False), **{"batch-size": 64}))
    forward = [layer.forward_signal for layer in no_bias.layers]
    factor = math.exp(sum(math.log(forward[i + 1] / forward[i]) for i in range(18)) / 18)
    assert factor == pytest.approx(theory, rel=0.05)
