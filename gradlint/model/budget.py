"""The cost budget of one model (issue 13, item 6; measured in ``bench/realmodel_cost.py``).

A model file of a zoo builds dozens of variants, some with hundreds of millions of
parameters: building and probing those for real costs seconds and gigabytes each. Each
model is therefore first built on the ``meta`` device (shapes only: no memory, no
initialisation work) to count its parameters. When its weights and their gradients
(8 bytes a parameter in float32) would take more than a quarter of the worker's
``memory-limit`` (4096 MiB by default: about 134M parameters, so GPT-2 small is still
probed), the meta model is kept: its structure is analysed (torch.fx, or a forward recorded on meta
tensors), its init is unknown and it is not probed, which the report says. A model
whose construction does not work on meta (it loads a checkpoint, calls ``.to()``) is
built for real as before.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import torch
import torch.nn as nn

from gradlint.model.meta_fills import MetaFills

BYTES_PER_PARAMETER = 8  # a float32 weight and its gradient
MEMORY_SHARE = 4  # weights and gradients may take a quarter of the memory limit; activations, torch the rest


SHARED_FROM = 8  # a file with more models than this shares the budget among them


def parameter_budget(memory_limit_mb: int, models_in_file: int = 1) -> Optional[int]:
    """The most parameters a model may have to be built for real and probed; None: no
    limit. A model zoo's file shares it: with N > 8 models each gets 8/N of it, so one
    file never probes much more than 8 models of the largest size (timm's resnet.py has
    80 variants up to 192M parameters). It depends only on the file, never on timing,
    so the same models are probed run after run."""
    if memory_limit_mb <= 0:
        return None
    budget = memory_limit_mb * 2**20 // MEMORY_SHARE // BYTES_PER_PARAMETER
    return budget * SHARED_FROM // max(SHARED_FROM, models_in_file)


def build_within_budget(factory: Callable[..., Any], args: list, kwargs: dict, seed: int,
                        memory_limit_mb: int, models_in_file: int = 1) -> tuple[Any, Optional[str]]:
    """(the model, None) or (its meta-device twin, why it is not probed)."""
    budget = parameter_budget(memory_limit_mb, models_in_file)
    if budget is None:
        return factory(*args, **kwargs), None
    count: Optional[int] = None
    try:
        with torch.device("meta"), MetaFills():  # a fill of a meta tensor is a no-op: skip its cost
            twin = factory(*args, **kwargs)
        if isinstance(twin, nn.Module):
            count = sum(p.numel() for p in twin.parameters())
    except Exception:  # noqa: BLE001 - not buildable on meta: build it for real
        twin = None
    if count is not None and count > budget:
        shared = f", shared by the {models_in_file} models of its file" if models_in_file > SHARED_FROM else ""
        return twin, (f"{count / 1e6:.0f}M parameters, above the {budget / 1e6:.0f}M that a quarter of memory-limit "
                      f"({memory_limit_mb} MiB) holds with gradients{shared}: its structure was analysed on the meta "
                      "device and it was not probed (raise [tool.gradlint] memory-limit, or name it alone with "
                      "--model, to probe it)")
    del twin
    torch.manual_seed(seed)  # the meta build drew nothing, but its code may have
    return factory(*args, **kwargs), None


def release_memory() -> None:
    """Hand freed memory back to the system between models: else a file's worker keeps
    the high-water mark of every model before (glibc keeps freed heap pages)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc


def on_meta(model: nn.Module) -> bool:
    return any(p.is_meta for p in model.parameters())
