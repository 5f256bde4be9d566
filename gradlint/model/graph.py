"""The ModelGraph: the plain-data graph a worker sends back, with its path facts
(``paths.py``) and the runs the structure rules declare (``runs.py``). No torch here:
the main process builds it from JSON.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from gradlint.findings import Span, shown_path
from gradlint.model.paths import PathFacts, path_facts
from gradlint.model.runs import Run, RunSpec, walk
from gradlint.registry import Report

# weight layers whose PyTorch default is kaiming_uniform(a=sqrt(5)): the too-small one
DEFAULT_INIT_TYPES = frozenset({
    "Linear", "Bilinear", "LazyLinear", "Conv1d", "Conv2d", "Conv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
})

__all__ = ["DEFAULT_INIT_TYPES", "ModelGraph", "PathFacts", "Run", "RunSpec"]


class ModelGraph:
    """What the GL1xx rules read: one analysed model, its layers and path facts."""

    def __init__(self, data: dict[str, Any], runs: Sequence[RunSpec] = ()) -> None:
        self.data = data
        self.name: str = data.get("name", "model")
        self.file: str = data.get("file", "")
        self.line: int = int(data.get("line", 1))
        self.column: int = int(data.get("column", 1))
        self.traced: bool = bool(data.get("traced", False))
        self.trace_note: Optional[str] = data.get("trace_note")
        self.layers: list[dict] = data.get("layers", [])
        self.activations: list[dict] = data.get("activations", [])
        self.norms: list[dict] = data.get("norms", [])
        self.joins: list[dict] = data.get("joins", [])
        self.facts: PathFacts = path_facts(data.get("nodes", []), self.layers, self.activations)
        self._runs: dict[RunSpec, Run] = walk(self.facts, self.layers, self.activations, runs)
        for ref, depth in self.facts.layer_depth.items():
            self.layers[ref]["depth"] = depth  # shown in the JSON models list and by the probe

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
    def merges(self) -> list[dict]:
        return [self.joins[i] for i in self.facts.merge_joins]

    @property
    def init_verdict(self) -> str:
        """The init most weight layers carry: default | kaiming | xavier | other | mixed | none."""
        if not self.layers:
            return "none"
        # "other" layers (undecidable from their values) do not vote
        kinds = [layer.get("init", "other") for layer in self.layers if layer.get("init", "other") != "other"]
        if not kinds:
            return "other"
        top = max(set(kinds), key=lambda k: (kinds.count(k), k))
        return top if kinds.count(top) * 4 >= len(kinds) * 3 else "mixed"

    def report(self, item: Optional[dict], message: str) -> Report:
        """A report at a layer's or activation's line in the user's code, or at the model's."""
        if item is None:
            span = Span(self.line, self.column, self.line, self.column + len(self.name))
            file = self.file
        else:
            line = int(item["line"])
            span = Span(line, int(item.get("column", 1)), int(item.get("end_line", line)), int(item.get("end_column", 1)))
            file = item.get("file") or self.file
        return Report(span, message, path=shown_path(file) if file else None, model=self.name)

    @staticmethod
    def label(item: dict) -> str:
        """How a message names a layer or activation: its module path, or the call in forward."""
        if item.get("module", True):
            return f"'{item['name']}'" if item["name"] else "the model itself"
        owner = item.get("owner")
        where = f"{owner}.forward, line {item.get('line')}" if owner else f"forward, line {item.get('line')}"
        return f"{item['type']}() in {where}"

    def labels(self, items: list[dict], limit: int = 6) -> str:
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
            "path": self.data.get("shown", self.file),
            "line": self.line,
            "traced": self.traced,
            "trace_note": self.trace_note,
            # fx (traced exactly) | executed (recorded from one real forward on the probe input) | module tree
            "structure": self.data.get("structure", "fx" if self.traced else "module tree"),
            "layers": [
                {k: layer.get(k) for k in ("name", "type", "line", "depth", "init", "fan_in", "fan_out")}
                | {"path": layer.get("shown", layer.get("file"))}
                for layer in self.layers
            ],
            "depth": len(self.layers),
            "longest_path": self.longest_path,
            "residual_merges": len(self.facts.merge_joins),
            "normalization_layers": len(self.norms),
            "activations": len(self.activations),
            "init": self.init_verdict,
            "parameters": self.data.get("parameters"),
        } | ({"probe_skipped": self.data["probe_skipped"]} if self.data.get("probe_skipped") else {})
