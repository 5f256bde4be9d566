"""The measurements behind the preflight rules, on the real model and optimiser:
which parameters got a gradient, which param group holds each, and whether the
optimiser's step changed them. Each is one foreach call and one host transfer."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Optional

import torch
from torch import nn

from gradlint.findings import Span, shown_path
from gradlint.inprocess.facts import GroupFact, LayerFact, ParamFact, PreflightSummary
from gradlint.inprocess.places import Locator
from gradlint.model.extract import module_kind


def place_of(location: Span) -> Span:
    """A worker-side place (real file) as the user is shown it."""
    return replace(location, path=shown_path(location.path))


def nonzero(tensors: list[Optional[torch.Tensor]]) -> list[bool]:
    """Whether each tensor (a gradient, or a parameter's change) has a non-zero element."""
    present = [t for t in tensors if t is not None]
    values: list[float] = []
    if present:
        with torch.no_grad():
            norms = torch._foreach_norm([t.detach() for t in present])
            values = torch.stack([n.to(norms[0].device, torch.float32) for n in norms]).cpu().tolist()
    found = iter(values)
    return [False if t is None else next(found) != 0 for t in tensors]


class StepMeasure:
    """Called after the measured backward (``Given.after_backward``): records which
    parameters got a non-zero gradient, then, with ``steps``, steps the real optimiser
    (a fresh forward/backward before each step after the first) and records which
    parameters the step(s) changed, against the values saved before."""

    def __init__(self, model: nn.Module, optimizer: Any, steps: int,
                 saved_values: list[tuple[torch.Tensor, torch.Tensor]],
                 forward_loss: Callable[[], torch.Tensor]) -> None:
        self.model, self.optimizer, self.steps = model, optimizer, steps
        self.saved_values = saved_values
        self.forward_loss = forward_loss
        self.got_grad: dict[int, bool] = {}
        self.changed: dict[int, bool] = {}

    def __call__(self, output: Any) -> None:
        params = list(self.model.parameters())
        self.got_grad = {id(p): g for p, g in zip(params, nonzero([p.grad for p in params]))}
        if self.optimizer is None or self.steps < 1:
            return
        for step in range(self.steps):
            if step:
                self.optimizer.zero_grad(set_to_none=True)
                self.forward_loss().backward()
            self.optimizer.step()
        with torch.no_grad():  # one 0-d flag a parameter (no second copy of the weights), one transfer
            flags = [(p.detach() != before).any() for p, before in self.saved_values]
            moved = torch.stack([f.to(flags[0].device) for f in flags]).cpu().tolist() if flags else []
        self.changed = {id(p): bool(m) for (p, _), m in zip(self.saved_values, moved)}


def param_kind(module: nn.Module, own_name: str) -> str:
    """weight | bias | norm | embedding | other: what GL403 and GL404 tell apart."""
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return "embedding"
    if module_kind(module) == "norm":
        return "norm"
    if own_name.endswith("bias"):
        return "bias"
    return "weight" if module_kind(module) == "layer" and "weight" in own_name else "other"


def build_summary(model: nn.Module, optimizer: Any, locator: Locator, measure: Optional[StepMeasure],
                  call_order: list[str], steps_run: int, optimizer_place: Optional[Span]) -> PreflightSummary:
    groups: dict[int, int] = {}
    group_facts: list[GroupFact] = []
    for index, group in enumerate(getattr(optimizer, "param_groups", None) or []):
        for param in group.get("params", []):
            groups.setdefault(id(param), index)
        lr = group.get("lr")
        lr_value = float(lr) if isinstance(lr, (int, float)) or (isinstance(lr, torch.Tensor) and lr.numel() == 1) else None
        initial = group.get("initial_lr")
        group_facts.append(GroupFact(
            index=index, lr=lr_value, weight_decay=float(group.get("weight_decay") or 0.0),
            warmup_from_zero=lr_value == 0 and isinstance(initial, (int, float)) and initial > 0,
        ))
    params: list[ParamFact] = []
    seen: set[int] = set()
    layers: dict[str, LayerFact] = {}
    for module_name, module in model.named_modules():
        for own, param in module._parameters.items():
            if param is None or id(param) in seen:
                continue
            seen.add(id(param))
            place = place_of(locator.of(module_name))
            params.append(ParamFact(
                name=f"{module_name}.{own}" if module_name else own, module=module_name,
                module_type=type(module).__name__, kind=param_kind(module, own), numel=param.numel(),
                trainable=param.requires_grad,
                got_grad=measure.got_grad.get(id(param)) if measure and measure.got_grad else None,
                group=groups.get(id(param)), changed=measure.changed.get(id(param)) if measure and measure.changed else None,
                place=place,
            ))
        weight = module._parameters.get("weight")
        if module_kind(module) == "layer" and weight is not None:
            layers[module_name] = LayerFact(module_name, type(module).__name__, weight.requires_grad, weight.numel(),
                                            place_of(locator.of(module_name)))
    order = {name: i for i, name in enumerate(call_order)}
    ran = sorted((l for l in layers.values() if l.name in order), key=lambda l: order[l.name])
    return PreflightSummary(
        model=type(model).__name__, place=place_of(locator.root()), params=params, groups=group_facts,
        layers=ran or list(layers.values()), optimizer=type(optimizer).__name__ if optimizer is not None else None,
        optimizer_place=place_of(optimizer_place) if optimizer_place else None, steps=steps_run,
    )


def optimizer_location(optimizer: Any, locator: Locator) -> Optional[Span]:
    """The line of the scripts that builds this optimiser's class (``AdamW(``), if any."""
    if optimizer is None:
        return None
    import linecache
    import re

    pattern = re.compile(rf"\b{re.escape(type(optimizer).__name__)}\s*\(")
    for filename in locator.scripts:
        for number, text in enumerate(linecache.getlines(filename), start=1):
            match = pattern.search(text)
            if match and not text.lstrip().startswith(("#", "import", "from")):
                return Span(number, match.start() + 1, number, len(text.rstrip()) + 1, filename)
    return None
