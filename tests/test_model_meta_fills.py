"""The meta-device build skips random fills of meta tensors (their cost, not their
checks): a fill torch accepts never reaches torch, one torch rejects still raises
torch's own error, and real tensors are filled as before."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
from torch.overrides import TorchFunctionMode  # noqa: E402

from gradlint.model.meta_fills import MetaFills  # noqa: E402

FILLS = {torch.Tensor.normal_, torch.Tensor.uniform_, nn.init.normal_, nn.init.uniform_, nn.init.kaiming_uniform_}


class Reaching(TorchFunctionMode):
    """Below MetaFills on the mode stack: counts the fills that got past it."""

    def __init__(self) -> None:
        super().__init__()
        self.fills: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in FILLS:
            self.fills.append(func.__name__)
        return func(*args, **(kwargs or {}))


def _init(layer: nn.Module) -> None:
    nn.init.normal_(layer.weight, std=0.02)
    nn.init.uniform_(layer.bias, -0.1, 0.1)
    nn.init.kaiming_uniform_(layer.weight, a=0.1, mode="fan_out", nonlinearity="leaky_relu")
    layer.weight.data.normal_(mean=0.0, std=0.02)
    with torch.no_grad():
        layer.weight.uniform_(-1.0, 1.0)


def test_accepted_fills_of_meta_tensors_never_reach_torch():
    reaching = Reaching()
    with torch.device("meta"), reaching, MetaFills():
        layer = nn.Conv2d(3, 8, 3)  # its reset_parameters: kaiming_uniform_ and uniform_
        _init(layer)
    assert reaching.fills == []
    assert layer.weight.is_meta and tuple(layer.weight.shape) == (8, 3, 3, 3)


def _outcome(call, skipping: bool) -> str:
    with torch.device("meta"), (MetaFills() if skipping else Reaching()):
        layer = nn.Linear(4, 5)
        try:
            call(layer)
        except (RuntimeError, ValueError) as error:
            return f"{type(error).__name__}: {error}"
    return "accepted"


@pytest.mark.parametrize("call, error", [
    (lambda layer: layer.weight.normal_(0.0, 1.0), "leaf Variable that requires grad"),  # outside no_grad
    (lambda layer: layer.weight.data.normal_(0.0, -1.0), "std"),
    (lambda layer: nn.init.kaiming_uniform_(layer.bias), "fewer than 2 dimensions"),
    (lambda layer: nn.init.kaiming_uniform_(layer.weight, nonlinearity="swish"), "Unsupported nonlinearity"),
    (lambda layer: layer.weight.data.uniform_(2.0, 1.0), "accepted"),  # torch checks the range on real tensors only
])
def test_a_fill_torch_rejects_still_raises_torchs_error(call, error):
    assert error in _outcome(call, skipping=False)
    assert _outcome(call, skipping=True) == _outcome(call, skipping=False)


def test_real_tensors_are_filled_as_before():
    torch.manual_seed(0)
    expected = nn.Linear(16, 16)
    _init(expected)
    torch.manual_seed(0)
    with MetaFills():
        layer = nn.Linear(16, 16)
        _init(layer)
    assert torch.equal(layer.weight, expected.weight) and torch.equal(layer.bias, expected.bias)
