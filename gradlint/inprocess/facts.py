"""The summary the preflight rules (GL402-GL405, scope "preflight") read: plain data
measured on the real model and optimiser (no torch here), with the user's source
places already resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from gradlint.findings import Span


@dataclass
class ParamFact:
    name: str  # the parameter's path in the model (model.named_parameters())
    module: str  # its module's path ('' for the model itself)
    module_type: str
    kind: str  # weight | bias | norm | embedding | other
    numel: int
    trainable: bool  # requires_grad
    got_grad: Optional[bool] = None  # a non-zero gradient from the measured backward (None: not measured)
    group: Optional[int] = None  # the optimiser's param group holding it
    changed: Optional[bool] = None  # the measured optimiser step(s) changed it (None: no step)
    place: Optional[Span] = None  # where its module is created


@dataclass
class GroupFact:
    index: int
    lr: Optional[float]
    weight_decay: float
    warmup_from_zero: bool = False  # lr 0 now, a scheduler's initial_lr above 0: a warm-up's first step


@dataclass
class LayerFact:
    """A weight layer (Linear, Conv, Embedding, RNN, attention...) and whether its weight trains."""

    name: str
    type: str
    trainable: bool
    numel: int
    place: Span


@dataclass
class PreflightSummary:
    model: str
    place: Span  # the model's class statement, else the preflight call
    params: list[ParamFact] = field(default_factory=list)
    groups: list[GroupFact] = field(default_factory=list)
    layers: list[LayerFact] = field(default_factory=list)  # weight layers in the order they ran
    optimizer: Optional[str] = None  # class name of the real optimiser, None when none was given
    optimizer_place: Optional[Span] = None
    steps: int = 0  # optimiser steps measured
    measured: bool = True  # False: read from the source (GL404's static form): no gradients, no counts


def listed(names: list[str], limit: int = 4) -> str:
    """``a, b, c, d and 3 more``."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def by_module_place(params: list[ParamFact]) -> list[list[ParamFact]]:
    """Parameters grouped by module, then modules made on one line together (a loop)."""
    modules: dict[str, list[ParamFact]] = {}
    for param in params:
        modules.setdefault(param.module, []).append(param)
    lines: dict[tuple, list[ParamFact]] = {}
    for group in modules.values():
        place = group[0].place
        key = (place.path, place.line) if place else ("", group[0].module)
        lines.setdefault(key, []).extend(group)
    return list(lines.values())

