"""The probe summary the GL3xx rules read: the worker's measurements joined to the
graph's layers and activations (names, types, the user's source lines). No torch here:
the main process builds it from plain data.

The two derived quantities the vanishing/collapse rules use, and why:

- ``backward_ratio``: the gradient reaching a weight layer's output, as its norm over
  the batch's positions together (``backward_norm``), at the earliest weight layer over
  its largest value at any weight layer. This is the quantity that vanishes. The norm,
  not the RMS per element (``backward_signal``): a mean pool over P positions divides
  each element's gradient by P, so the RMS before the pool falls by P in a healthy
  model (a classifier mean-pooling 4096 tokens: 5e-5), the norm by sqrt(P) only, and
  the weight gradient, summed over the positions, not at all. Weight-gradient norms can hide it: a weight
  gradient is the layer's input times the backward signal, and in a deep plain ReLU
  net with Xavier init both shrink, in opposite directions, so the weight-gradient
  norms stay level across layers while the signals collapse (MEASURED.md: g ≈ 1.1
  at depth 50 while the forward signal falls to 3e-8; He et al. 2015).
- ``forward_ratio``: the forward signal (RMS of a layer's output) at the layer where it
  is farthest from the first weight layer's, over the first's: the activation scale
  that the same collapse (or an explosion) drives away from 1. Not the deepest layer's:
  an output head's bias sets a floor under its output that hides the collapse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from gradlint.findings import Span, shown_path
from gradlint.model.graph import ModelGraph


def activation_kind(type_name: str) -> Optional[str]:
    """Which statistic an activation gets: 'sigmoid' / 'tanh' (saturation), 'relu' (dead units)."""
    name = type_name.lower().rstrip("_")
    if "sigmoid" in name and "logsigmoid" not in name:
        return "sigmoid"
    if "tanh" in name and "shrink" not in name:
        return "tanh"
    if name in ("relu", "relu6", "threshold"):
        return "relu"
    return None


def entry_place(entry: dict, fallback: Span) -> Span:
    """Where a graph entry (layer, activation) is, as shown to the user; ``fallback``
    (the model's place) when the worker found none."""
    file, line = entry.get("shown") or entry.get("file"), entry.get("line")
    if not file or not line:
        return fallback
    path = entry.get("shown") or shown_path(file)
    column = int(entry.get("column") or 1)
    end_line = int(entry.get("end_line") or line)
    end_column = int(entry.get("end_column") or column + 1)
    return Span(int(line), column, end_line, end_column, path)


@dataclass
class LayerMeasure:
    name: str
    type: str
    place: Span
    depth: int = 0
    init: str = ""
    grad_norm: Optional[float] = None
    weight_norm: Optional[float] = None
    grad_weight_ratio: Optional[float] = None
    backward_signal: Optional[float] = None
    forward_signal: Optional[float] = None
    backward_norm: Optional[float] = None
    backward_norm_span: Optional[list] = None  # called more than once: [first call, min, max, calls]
    grad_norm_last: Optional[float] = None
    forward_signal_span: Optional[list] = None  # called more than once: [first, min, max, calls]

    @property
    def first_forward(self) -> Optional[float]:
        """The forward signal of the layer's first call."""
        return self.forward_signal_span[0] if self.forward_signal_span else self.forward_signal

    def forward_values(self) -> tuple:
        """One value, or a reused layer's smallest and largest of one call."""
        return tuple(self.forward_signal_span[1:3]) if self.forward_signal_span else (self.forward_signal,)


@dataclass
class ActivationMeasure:
    name: str
    type: str
    family: str
    kind: Optional[str]
    place: Span
    saturated: Optional[float] = None
    dead: Optional[float] = None
    head: bool = False  # no weight layer after it: an output head


@dataclass
class ProbeSummary:
    model: str
    place: Span
    layers: list[LayerMeasure] = field(default_factory=list)
    activations: list[ActivationMeasure] = field(default_factory=list)
    global_grad_norm: Optional[float] = None
    grad_norm_per_step: list[Optional[float]] = field(default_factory=list)
    nonfinite: list[str] = field(default_factory=list)
    zero_weights: list[str] = field(default_factory=list)
    no_grad: list[dict[str, Any]] = field(default_factory=list)  # GL401: parameters left without a gradient
    loss: str = ""
    dtype: str = "float32"
    device: str = "cpu"
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def has_zero_layer(self) -> bool:
        """A deliberately zero-initialised layer (a classifier head, a residual branch's
        last layer, or its last normalisation layer's weight, as torchvision's
        ``zero_init_residual``) blocks the gradient for the first step only."""
        return bool(self.zero_weights) or any(layer.weight_norm == 0 for layer in self.layers)

    def signal_layers(self, attribute: str) -> list[LayerMeasure]:
        found = [l for l in self.layers if getattr(l, attribute) is not None]
        if self.has_zero_layer:
            found = [l for l in found if getattr(l, attribute) > 0 and l.weight_norm != 0]
        return found

    @property
    def backward_attribute(self) -> str:
        """``backward_norm``; ``backward_signal`` for a probe result that predates it."""
        return "backward_norm" if any(l.backward_norm is not None for l in self.layers) else "backward_signal"

    def backward_value(self, layer: LayerMeasure, which: str = "all") -> float:
        """A layer's backward norm: ``first`` (a reused layer's first call, the earliest in
        depth), ``peak`` (its largest call) or ``all`` (every call together)."""
        span = layer.backward_norm_span if self.backward_attribute == "backward_norm" else None
        if span and which in ("first", "peak"):
            return span[0] if which == "first" else span[2]
        return getattr(layer, self.backward_attribute)

    def backward_ratio(self) -> Optional[tuple[float, LayerMeasure, LayerMeasure]]:
        """(earliest / largest backward norm, the earliest layer, the largest one); a
        layer reused in a loop counts with each call (its first is the earliest)."""
        layers = self.signal_layers(self.backward_attribute)
        if len(layers) < 2:
            return None
        earliest, largest = layers[0], max(layers, key=lambda l: self.backward_value(l, "peak"))
        peak = self.backward_value(largest, "peak")
        if not peak:
            return None
        return self.backward_value(earliest, "first") / peak, earliest, largest

    def backward_growth(self) -> Optional[tuple[float, LayerMeasure, LayerMeasure]]:
        """(earliest / deepest backward norm, earliest, deepest): above 1 the gradient
        grows on its way back to the input."""
        attribute = self.backward_attribute
        layers = self.signal_layers(attribute)
        if len(layers) < 2 or not getattr(layers[-1], attribute):
            return None
        return self.backward_value(layers[0], "first") / getattr(layers[-1], attribute), layers[0], layers[-1]

    def forward_ratio(self) -> Optional[tuple[float, LayerMeasure, LayerMeasure]]:
        """(extreme / first forward signal, the first layer, the extreme one): the layer
        after the first whose output scale is farthest (in log scale) from the first's.
        Not simply the deepest: an output head's own bias sets a floor under its output
        that hides a collapse in the layers before it."""
        layers = self.signal_layers("forward_signal")
        if len(layers) < 2 or not layers[0].first_forward:
            return None
        first = layers[0]
        reference = first.first_forward
        # every call counts: a block reused in a loop collapses in its later calls
        candidates = [(value, layer) for layer in layers for value in layer.forward_values()
                      if value and (layer is not first or layer.forward_signal_span)]
        if not candidates:
            return 0.0, first, layers[-1]
        value, extreme = max(candidates, key=lambda c: abs(math.log(c[0] / reference)))
        return value / reference, first, extreme

    def growth_across_steps(self) -> Optional[float]:
        norms = self.grad_norm_per_step
        if len(norms) < 2 or norms[0] in (None, 0) or norms[-1] is None:
            return None
        return norms[-1] / norms[0]


def build_summary(graph: ModelGraph, probe: dict) -> ProbeSummary:
    """Join the worker's probe dict to the graph's layers/activations by name and order."""
    model_place = Span(graph.line, graph.column, graph.line, graph.column + 1, graph.shown or shown_path(graph.file) or "?")
    graph_layers = {layer.name: layer for layer in graph.layers}
    layers = []
    for measured in probe.get("layers") or []:
        layer = graph_layers.get(measured.get("name"))
        layers.append(LayerMeasure(
            name=measured.get("name", "?"), type=(layer.type if layer else "") or measured.get("type", "?"),
            place=layer.place(model_place) if layer else model_place, depth=layer.depth if layer else 0,
            init=layer.init if layer else "",
            **{k: measured.get(k) for k in ("grad_norm", "weight_norm", "grad_weight_ratio", "backward_signal",
                                            "forward_signal", "grad_norm_last", "forward_signal_span",
                                            "backward_norm", "backward_norm_span")},
        ))
    graph_acts = graph.activations
    activations = []
    for index, measured in enumerate(probe.get("activations") or []):
        act = graph_acts[index] if index < len(graph_acts) and graph_acts[index].name == measured.get("name") else None
        type_name = str((act.type if act else "") or measured.get("type") or "")
        activations.append(ActivationMeasure(
            name=measured.get("name", "?"), type=type_name, family=(act.family if act else "") or measured.get("family") or "",
            kind=activation_kind(type_name), place=act.place(model_place) if act else model_place,
            saturated=measured.get("saturated"), dead=measured.get("dead"), head=index in graph.facts.heads,
        ))
    return ProbeSummary(
        model=graph.name, place=model_place, layers=layers, activations=activations,
        global_grad_norm=probe.get("global_grad_norm"), grad_norm_per_step=list(probe.get("grad_norm_per_step") or []),
        nonfinite=list(probe.get("nonfinite") or []), zero_weights=list(probe.get("zero_weights") or []),
        no_grad=list(probe.get("no_grad") or []), loss=probe.get("loss", ""), dtype=probe.get("dtype", "float32"),
        device=probe.get("device", "cpu"), raw=probe,
    )


def fmt(value: Optional[float]) -> str:
    """Numbers in messages: 3 significant digits, scientific when far from 1."""
    if value is None:
        return "n/a"
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}"
    return f"{value:.2e}"
