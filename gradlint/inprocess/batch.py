"""The batch forms preflight accepts and the loss it backpropagates.

- a tensor: ``model(batch)``;
- a dict (or any mapping, e.g. a transformers ``BatchEncoding``): ``model(**batch)``;
- a tuple/list: ``model(batch[0])``, the rest (targets) left to ``loss_fn``; when the
  first element is itself a tuple/list or dict, ``model(*batch[0])`` / ``model(**batch[0])``.

The loss: ``loss_fn(output, batch)``, else the output's own ``.loss`` (transformers),
else the probe's default loss (cross-entropy on class scores, else mean squared error,
against a seeded random target).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Optional

import torch

from gradlint.inprocess.errors import PreflightError
from gradlint.probe.inputs import ProbeInput, describe
from gradlint.probe.nograd import all_tensors


def model_input(batch: Any, device: Optional[torch.device]) -> ProbeInput:
    """What the model is called with, moved to ``device`` when one is given."""
    if isinstance(batch, torch.Tensor):
        data = ProbeInput((batch,), {}, "preflight")
    elif isinstance(batch, Mapping):
        data = ProbeInput((), dict(batch), "preflight")
    elif isinstance(batch, (tuple, list)) and batch:
        first = batch[0]
        if isinstance(first, Mapping):
            data = ProbeInput((), dict(first), "preflight")
        elif isinstance(first, (tuple, list)):
            data = ProbeInput(tuple(first), {}, "preflight")
        else:
            data = ProbeInput((first,), {}, "preflight")
    else:
        raise PreflightError(
            f"preflight got a batch of type {type(batch).__name__}; pass what the model takes: a tensor, a "
            "tuple/list whose first element is the input, or a dict of keyword arguments")
    if device is not None:
        data = data.to(device)
    data.described = describe(list(data.args)) if data.args else describe(data.kwargs)
    return data


def check_devices(data: ProbeInput, model_device: Optional[torch.device]) -> None:
    """The batch's tensors must be where the model is: said before anything runs."""
    if model_device is None:
        return
    for tensor in all_tensors(list(data.args) + list(data.kwargs.values())):
        if tensor.device != model_device:
            raise PreflightError(
                f"the batch is on {tensor.device} but the model is on {model_device}: move the batch with "
                f".to('{model_device}') or pass device='{model_device}' to preflight")


def loss_function(loss_fn: Optional[Callable[[Any, Any], Any]], batch: Any) -> Optional[Callable[[Any], torch.Tensor]]:
    """output -> scalar loss from ``loss_fn``; None: the probe's loss, which takes the
    output's own ``loss`` (a dict or ModelOutput) before its default one."""
    if loss_fn is None:
        return None
    return lambda output: _scalar(loss_fn(output, batch), "loss_fn(output, batch)")


def _scalar(loss: Any, what: str) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor):
        raise PreflightError(f"{what} returned a {type(loss).__name__}, not a tensor: return the loss tensor")
    if loss.dim() != 0 and loss.numel() != 1:
        raise PreflightError(f"{what} returned a tensor of shape {list(loss.shape)}, not a scalar: reduce it "
                             "(e.g. .mean()) as your training step does before backward()")
    if not loss.requires_grad:
        raise PreflightError(f"{what} does not depend on any trainable parameter (requires_grad is False): "
                             "nothing would learn; check for a .detach() or torch.no_grad() around the loss")
    return loss.reshape(()).float()
