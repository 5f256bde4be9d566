"""The cost budget of one model (issue 13, item 6; measured in ``bench/realmodel_cost.py``).

A model file of a zoo builds dozens of variants, some with hundreds of millions of
parameters: building and probing those for real costs seconds and gigabytes each. Each
model is therefore first built on the ``meta`` device (shapes only: no memory, no
initialisation work) to count its parameters. Above :data:`LARGE_MODEL_PARAMETERS` the
meta model is kept: its structure is analysed (torch.fx, or a forward recorded on meta
tensors), its init is unknown and it is not probed, which the report says. A model
whose construction does not work on meta (it loads a checkpoint, calls ``.to()``) is
built for real as before.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
import torch.nn as nn

LARGE_MODEL_PARAMETERS = 30_000_000  # about ResNet-50 size and a bit more: probed in ~1 s on a CPU core


def build_within_budget(factory: Callable[..., Any], args: list, kwargs: dict, seed: int) -> tuple[Any, Optional[str]]:
    """(the model, None) or (its meta-device twin, why it is not probed)."""
    count: Optional[int] = None
    try:
        with torch.device("meta"):
            twin = factory(*args, **kwargs)
        if isinstance(twin, nn.Module):
            count = sum(p.numel() for p in twin.parameters())
    except Exception:  # noqa: BLE001 - not buildable on meta: build it for real
        twin = None
    if count is not None and count > LARGE_MODEL_PARAMETERS:
        return twin, (f"{count / 1e6:.0f}M parameters, above the {LARGE_MODEL_PARAMETERS / 1e6:.0f}M the probe "
                      "measures: its structure was analysed on the meta device and it was not probed")
    del twin
    torch.manual_seed(seed)  # the meta build drew nothing, but its code may have
    return factory(*args, **kwargs), None


def on_meta(model: nn.Module) -> bool:
    return any(p.is_meta for p in model.parameters())
