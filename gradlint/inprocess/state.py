"""What preflight saves before it measures and puts back after, bit for bit:

- every parameter and buffer object in its module slot (a module that reassigns a
  buffer gets the old object back), buffer values (a BatchNorm in train mode updates
  its running statistics during the forward), and parameter values only when the
  optimiser will step (``copy_params``): with ``steps=0`` no parameter is copied;
- each parameter's ``.grad`` object, taken off the parameter for the measurement (so the
  probe's backward neither adds into it nor frees it) and put back as it was;
- ``requires_grad`` of every parameter and the train/eval mode of every module;
- the optimiser's state tensors (values copied, objects kept), its param groups'
  settings and its own attributes (an LR scheduler's step counters);
- the Python, CPU and (when CUDA is initialised) every CUDA device's RNG states.
"""

from __future__ import annotations

import copy
import random
from typing import Any, Optional

import torch
from torch import nn


def unique_params(model: nn.Module) -> list[nn.Parameter]:
    return list(model.parameters())  # named_parameters de-duplicates shared (tied) weights


class SavedState:
    def __init__(self, model: nn.Module, optimizer: Optional[Any], copy_params: bool) -> None:
        self.modules = list(model.modules())
        self.modes = [m.training for m in self.modules]
        self.slots = [(m, name, p) for m in self.modules for name, p in m._parameters.items()]
        self.buffer_slots = [(m, name, b) for m in self.modules for name, b in m._buffers.items()]
        seen: set[int] = set()
        self.buffers: list[tuple[torch.Tensor, torch.Tensor]] = []
        for _, _, buffer in self.buffer_slots:
            if buffer is not None and id(buffer) not in seen:
                seen.add(id(buffer))
                self.buffers.append((buffer, buffer.detach().clone()))
        self.params = unique_params(model)
        extra = [p for p in _optimizer_params(optimizer) if id(p) not in {id(q) for q in self.params}]
        self.all_params = self.params + extra
        self.grads = [(p, p.grad) for p in self.all_params]
        self.requires = [(p, p.requires_grad) for p in self.all_params]
        self.values = [(p, p.detach().clone()) for p in self.all_params] if copy_params else []
        self.optimizer = optimizer
        self.optimizer_saved = _save_optimizer(optimizer) if optimizer is not None and copy_params else None
        self.python_rng = random.getstate()
        self.cpu_rng = torch.get_rng_state()
        self.cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None

    def take_grads(self) -> None:
        """Gradients off the parameters for the measurement (put back by :meth:`restore`)."""
        for p, _ in self.grads:
            p.grad = None

    def restore(self) -> None:
        with torch.no_grad():
            for owner, slot, original in self.slots:
                owner._parameters[slot] = original
            for owner, slot, kept in self.buffer_slots:
                owner._buffers[slot] = kept
            for buffer, value in self.buffers:
                buffer.copy_(value)
            for tensor, saved in self.values:
                tensor.copy_(saved)
        for tensor, grad in self.grads:
            tensor.grad = grad
        for tensor, flag in self.requires:
            tensor.requires_grad_(flag)
        for module, mode in zip(self.modules, self.modes):
            module.training = mode
        if self.optimizer_saved is not None:
            _restore_optimizer(self.optimizer, self.optimizer_saved)
        random.setstate(self.python_rng)
        torch.set_rng_state(self.cpu_rng)
        if self.cuda_rng is not None:
            torch.cuda.set_rng_state_all(self.cuda_rng)


def _optimizer_params(optimizer: Optional[Any]) -> list[torch.Tensor]:
    if optimizer is None:
        return []
    return [p for group in getattr(optimizer, "param_groups", []) for p in group.get("params", [])]


def _save_optimizer(optimizer: Any) -> dict[str, Any]:
    state = {}
    for param, entry in getattr(optimizer, "state", {}).items():
        state[param] = (entry, {k: (v.detach().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v))
                                for k, v in entry.items()})
    groups = [{k: copy.deepcopy(v) for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    attributes = {k: v for k, v in vars(optimizer).items() if k not in ("state", "param_groups")}
    return {"state": state, "state_keys": set(getattr(optimizer, "state", {}).keys()), "groups": groups,
            "attributes": attributes}


def _restore_optimizer(optimizer: Any, saved: dict[str, Any]) -> None:
    state = optimizer.state
    for param in [p for p in state if p not in saved["state_keys"]]:
        del state[param]  # state the measured step created
    for param, (entry, values) in saved["state"].items():
        for key in [k for k in entry if k not in values]:
            del entry[key]
        for key, value in values.items():
            current = entry.get(key)
            if isinstance(value, torch.Tensor) and isinstance(current, torch.Tensor) and current.shape == value.shape:
                with torch.no_grad():
                    current.copy_(value)  # the same tensor object, its old values
            else:
                entry[key] = value
        state[param] = entry
    for group, values in zip(optimizer.param_groups, saved["groups"]):
        for key in [k for k in group if k != "params" and k not in values]:
            del group[key]
        group.update(values)
    for key in [k for k in vars(optimizer) if k not in ("state", "param_groups") and k not in saved["attributes"]]:
        delattr(optimizer, key)
    for key, value in saved["attributes"].items():
        setattr(optimizer, key, value)
