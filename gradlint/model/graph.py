"""The ModelGraph: the plain-data graph a worker sends back, with its path facts
(``paths.py``) and the runs the structure rules declare (``runs.py``). No torch here:
the main process builds it from JSON.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional, Sequence, Union

from gradlint.findings import Span, shown_path
from gradlint.model.paths import PathFacts, path_facts
from gradlint.model.records import (
    Activation, Entry, Join, Layer, Norm, activation_from_wire, join_from_wire, layer_from_wire, node_from_wire,
    norm_from_wire,
)
from gradlint.model.records import label as entry_label
from gradlint.model.runs import Run, RunSpec, walk
from gradlint.registry import Report

# weight layers whose PyTorch default is kaiming_uniform(a=sqrt(5)): the too-small one
DEFAULT_INIT_TYPES = frozenset({
    "Linear", "Bilinear", "LazyLinear", "Conv1d", "Conv2d", "Conv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
})

__all__ = ["DEFAULT_INIT_TYPES", "ModelGraph", "PathFacts", "Run", "RunSpec"]


class ModelGraph:
    """What the GL1xx rules read: one analysed model, its layers and path facts.

    Built once from the graph dict the worker sends (its JSON on the wire): every list
    becomes typed records (``records.py``) here, and nothing keeps the dict."""

    def __init__(self, data: dict[str, Any], runs: Sequence[RunSpec] = ()) -> None:
        self.name: str = data.get("name", "model")
        self.file: str = data.get("file", "")
        self.shown: Optional[str] = data.get("shown")  # the model's file as shown, when the caller knows it
        self.line: int = int(data.get("line", 1))
        self.column: int = int(data.get("column", 1))
        self.traced: bool = bool(data.get("traced", False))
        self.trace_note: Optional[str] = data.get("trace_note")
        # fx (traced exactly) | executed (recorded from one real forward on the probe input) | module tree
        self.structure: str = data.get("structure", "fx" if self.traced else "module tree")
        self.parameters: Optional[int] = data.get("parameters")
        self.probe_skipped: Optional[str] = data.get("probe_skipped")
        nodes = [node_from_wire(n) for n in data.get("nodes", [])]
        layers = [layer_from_wire(layer) for layer in data.get("layers", [])]
        self.activations: tuple[Activation, ...] = tuple(activation_from_wire(a) for a in data.get("activations", []))
        self.norms: tuple[Norm, ...] = tuple(norm_from_wire(n) for n in data.get("norms", []))
        self.joins: tuple[Join, ...] = tuple(join_from_wire(j) for j in data.get("joins", []))
        self.facts: PathFacts = path_facts(nodes, layers, self.activations)
        # a layer's depth is a path fact: known once the paths are
        depth = self.facts.layer_depth
        self.layers: tuple[Layer, ...] = tuple(replace(layer, depth=depth[ref]) if ref in depth else layer
                                               for ref, layer in enumerate(layers))
        self._runs: dict[RunSpec, Run] = walk(self.facts, self.layers, self.activations, runs)

    def run(self, spec: RunSpec) -> Run:
        """The longest run of ``spec`` on this graph. The specs the graph was built with
        were walked together; one asked for later is walked on its own, once."""
        if spec not in self._runs:
            self._runs.update(walk(self.facts, self.layers, self.activations, [spec]))
        return self._runs[spec]

    @property
    def longest_path(self) -> int:
        return self.facts.longest_path

    @property
    def merges(self) -> list[Join]:
        return [self.joins[i] for i in self.facts.merge_joins]

    @property
    def init_verdict(self) -> str:
        """The init most weight layers carry: default | kaiming | xavier | other | mixed | none."""
        if not self.layers:
            return "none"
        # "other" layers (undecidable from their values) do not vote
        kinds = [layer.init for layer in self.layers if layer.init != "other"]
        if not kinds:
            return "other"
        top = max(set(kinds), key=lambda k: (kinds.count(k), k))
        return top if kinds.count(top) * 4 >= len(kinds) * 3 else "mixed"

    def report(self, item: Optional[Union[Layer, Activation]], message: str) -> Report:
        """A report at a layer's or activation's line in the user's code, or at the model's."""
        if item is None or not item.span.line:
            span = Span(self.line, self.column, self.line, self.column + len(self.name))
            shown = shown_path(self.file) if self.file else None
        else:
            span = Span(item.span.line, item.span.column, item.span.end_line, item.span.end_column)
            shown = item.shown or (shown_path(self.file) if self.file else None)
        return Report(span, message, path=shown, model=self.name)

    @staticmethod
    def label(item: Entry) -> str:
        """How a message names a layer or activation: its module path, or the call in forward."""
        return entry_label(item)

    def labels(self, items: Sequence[Union[Layer, Activation]], limit: int = 6) -> str:
        """Distinct labels in order, a repeated one counted (``tanh() in forward, line 16 (x6)``)."""
        counts: dict[str, int] = {}
        for item in items:
            label = self.label(item)
            counts[label] = counts.get(label, 0) + 1
        shown = [f"{label} (x{n})" if n > 1 else label for label, n in counts.items()]
        return ", ".join(shown[:limit]) + (", ..." if len(shown) > limit else "")

    def summary(self) -> dict[str, Any]:
        """The JSON ``models`` entry (issue 5 adds ``probe``)."""
        return {
            "name": self.name,
            "path": self.shown if self.shown is not None else self.file,
            "line": self.line,
            "traced": self.traced,
            "trace_note": self.trace_note,
            "structure": self.structure,
            "layers": [
                {"name": layer.name, "type": layer.type, "line": layer.span.line, "depth": layer.depth,
                 "init": layer.init, "fan_in": layer.fan_in, "fan_out": layer.fan_out, "path": layer.shown}
                for layer in self.layers
            ],
            "depth": len(self.layers),
            "longest_path": self.longest_path,
            "residual_merges": len(self.facts.merge_joins),
            "normalization_layers": len(self.norms),
            "activations": len(self.activations),
            "init": self.init_verdict,
            "parameters": self.parameters,
        } | ({"probe_skipped": self.probe_skipped} if self.probe_skipped else {})
