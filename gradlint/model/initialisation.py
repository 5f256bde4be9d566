"""Which initialisation a weight layer carries, read from its weight values (worker
side, torch): PyTorch's default, Kaiming, Xavier, or other."""

from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn as nn

from gradlint.model.graph import DEFAULT_INIT_TYPES

# layers whose weight is stored (in_features, out_features): Hugging Face's GPT-2 Conv1D
TRANSPOSED_LINEAR = frozenset({"Conv1D"})
_INDISTINCT = math.log(1.03)  # closer scales are within ~3 sigma of a 4096-value std estimate
_SAMPLE = 4096  # std within ~2%, and small enough to stay on one thread (no OpenMP start-up)


def _weight_of(module: nn.Module) -> Optional[torch.Tensor]:
    for attribute in ("weight", "in_proj_weight", "q_proj_weight", "weight_ih_l0", "weight_ih"):
        value = getattr(module, attribute, None)
        if isinstance(value, torch.Tensor) and value.dim() >= 2:
            return value
    return None


def _spectral_normalised(module: nn.Module) -> bool:
    """``nn.utils.spectral_norm`` (a forward pre-hook) or its parametrization."""
    if any(type(hook).__name__ == "SpectralNorm" for hook in module._forward_pre_hooks.values()):
        return True
    parametrizations = getattr(module, "parametrizations", None)
    return parametrizations is not None and any(
        type(p).__name__ == "_SpectralNorm" for plist in parametrizations.values() for p in plist)


def classify_init(module: nn.Module, weight: Optional[torch.Tensor] = None) -> tuple[str, int, int]:
    """(default | kaiming | xavier | other, fan_in, fan_out) read from the weight values.

    PyTorch's default for Linear/Conv is uniform within 1/sqrt(fan_in) (std
    1/sqrt(3 fan_in)); Kaiming has std sqrt(2/fan) and Xavier sqrt(2/(fan_in+fan_out))
    (times the tanh gain 5/3 where used): the scales tell them apart."""
    weight = _weight_of(module) if weight is None else weight
    if _spectral_normalised(module):
        return "other", 0, 0  # the norm sets the weight's scale (largest singular value 1), not the init
    if weight is None or weight.is_meta or isinstance(weight, nn.parameter.UninitializedParameter):
        return "other", 0, 0
    fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(weight)
    if type(module).__name__ in TRANSPOSED_LINEAR:  # weight (in, out): x @ W, not x @ W.T
        fan_in, fan_out = fan_out, fan_in
    flat = weight.detach().reshape(-1)
    if flat.numel() > _SAMPLE:
        flat = flat[:: flat.numel() // _SAMPLE][:_SAMPLE]
    if flat.numel() < 16 or not flat.is_floating_point():
        return "other", fan_in, fan_out
    flat = flat.float()
    std, absmax = torch.stack([flat.std(), flat.abs().max()]).tolist()
    count = flat.numel()
    tolerance = 0.15 + 2.0 / math.sqrt(count)
    name = type(module).__name__
    bound = None
    if name in DEFAULT_INIT_TYPES:
        bound = 1.0 / math.sqrt(fan_in)
    elif isinstance(module, (nn.RNNBase, nn.RNNCellBase)):
        bound = 1.0 / math.sqrt(module.hidden_size)
    elif isinstance(module, (nn.Embedding, nn.EmbeddingBag)) and abs(std - 1.0) < tolerance:
        return "default", fan_in, fan_out
    if bound is not None and absmax <= bound * 1.001 and (absmax >= 0.9 * bound or count < 200) \
            and abs(std * math.sqrt(3.0) / bound - 1.0) < tolerance:
        return "default", fan_in, fan_out
    expected = [
        ("kaiming", math.sqrt(2.0 / fan_in)), ("kaiming", math.sqrt(2.0 / fan_out)),
        ("xavier", math.sqrt(2.0 / (fan_in + fan_out))), ("xavier", 5.0 / 3.0 * math.sqrt(2.0 / (fan_in + fan_out))),
    ]
    ranked = sorted((abs(math.log(max(std, 1e-30) / scale)), kind) for kind, scale in expected)
    distance, kind = ranked[0]
    rival = next((d for d, other in ranked[1:] if other != kind), math.inf)
    if distance >= math.log(1.0 + tolerance) or rival - distance < _INDISTINCT:
        # e.g. a 3-channel stem conv, where Kaiming fan-out and Xavier differ by 2%:
        # the values cannot tell them apart, so say nothing rather than guess
        return "other", fan_in, fan_out
    return kind, fan_in, fan_out
