"""Random fills of meta tensors as no-ops, for the meta-device build (see ``budget``).

A meta tensor holds no values, so ``normal_``/``uniform_`` on one only check their
arguments; but torch runs them through its Python reference decompositions, ~1 ms a
call: 40% of building a timm ResNet on meta (``bench/realmodel_cost.py``: 73 such
builds for one file). Inside :class:`MetaFills` a fill of a floating-point meta tensor
whose arguments torch would accept returns the tensor at once; any other call (a real
tensor, arguments torch would reject) runs as before, so a model whose init raises
still raises the same error.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

_EXACT_RANGE = (torch.float32, torch.float64)  # dtypes whose range checks are only from <= to (finite)


def _meta_float(tensor: Any) -> bool:
    return isinstance(tensor, torch.Tensor) and tensor.is_meta and tensor.is_floating_point()


def _tensor(args: tuple, kwargs: dict) -> Any:
    # nn.init's functions hand the mode their tensor as a keyword
    return args[0] if args else kwargs.get("tensor", kwargs.get("self"))


def _argument(args: tuple, kwargs: dict, position: int, names: tuple[str, ...], default: float) -> Any:
    if len(args) > position:
        return args[position]
    return next((kwargs[name] for name in names if name in kwargs), default)


def _normal_accepted(args: tuple, kwargs: dict) -> bool:
    std = _argument(args, kwargs, 2, ("std",), 1.0)
    return isinstance(std, (int, float)) and std >= 0


def _uniform_accepted(args: tuple, kwargs: dict, names: tuple[tuple[str, ...], tuple[str, ...]]) -> bool:
    low = _argument(args, kwargs, 1, names[0], 0.0)
    high = _argument(args, kwargs, 2, names[1], 1.0)
    return (_tensor(args, kwargs).dtype in _EXACT_RANGE and isinstance(low, (int, float)) and isinstance(high, (int, float))
            and math.isfinite(low) and math.isfinite(high) and low <= high)


def _kaiming_uniform_accepted(args: tuple, kwargs: dict) -> bool:
    tensor = _tensor(args, kwargs)
    if 0 in tensor.shape:
        return True  # torch's own no-op (with a warning)
    try:
        fan = nn.init._calculate_correct_fan(tensor, _argument(args, kwargs, 2, ("mode",), "fan_in"))  # type: ignore[arg-type]
        gain = nn.init.calculate_gain(_argument(args, kwargs, 3, ("nonlinearity",), "leaky_relu"),  # type: ignore[arg-type]
                                      _argument(args, kwargs, 1, ("a",), 0))
        bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    except (ValueError, TypeError, ZeroDivisionError):
        return False
    return tensor.dtype in _EXACT_RANGE and math.isfinite(bound)


def _in_place_allowed(args: tuple, kwargs: dict) -> bool:
    # torch refuses an in-place fill of a leaf that requires grad outside no_grad
    return not (_tensor(args, kwargs).requires_grad and torch.is_grad_enabled())


_ACCEPTED: dict[Callable[..., Any], Callable[[tuple, dict], bool]] = {
    torch.Tensor.normal_: lambda args, kwargs: _in_place_allowed(args, kwargs) and _normal_accepted(args, kwargs),
    torch.Tensor.uniform_: lambda args, kwargs: _in_place_allowed(args, kwargs) and _uniform_accepted(
        args, kwargs, (("from",), ("to",))),
    # nn.init's own entry points hand the whole call to the mode (their inner fill then
    # runs with the mode off): taken here as a whole
    nn.init.normal_: _normal_accepted,
    nn.init.uniform_: lambda args, kwargs: _uniform_accepted(args, kwargs, (("a",), ("b",))),
    nn.init.kaiming_uniform_: _kaiming_uniform_accepted,
}


class MetaFills(TorchFunctionMode):
    """Inside it, a random fill of a floating-point meta tensor is skipped (see module doc)."""

    def __torch_function__(self, func: Callable[..., Any], types: Any, args: tuple = (),
                           kwargs: Optional[dict] = None) -> Any:
        kwargs = kwargs or {}
        accepted = _ACCEPTED.get(func)
        if accepted is not None:
            tensor = _tensor(args, kwargs)
            if _meta_float(tensor) and accepted(args, kwargs):
                return tensor
        return func(*args, **kwargs)
