"""The ModelGraph: the plain-data graph a worker sends back, and the path facts the
GL1xx rules read. No torch here: the main process builds it from JSON.

The graph is a list of nodes in topological order, each ``[kind, ref, inputs]``:
``kind`` is ``in``, ``layer`` (ref into ``layers``), ``act`` (into ``activations``),
``norm`` (into ``norms``), ``join`` (an add or concatenation, ref into ``joins``),
``mul``, ``op`` or ``out``; ``inputs`` are indices of earlier nodes. One forward pass
over it (linear in its size) gives every fact below. A product with a gate (a sigmoid or
tanh whose every use scales another signal) follows its other factor: the gate's branch
adds no depth, so ``h * t + x * (1 - t)`` is a merge of paths of different depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from gradlint.findings import Span, shown_path
from gradlint.registry import Report

# weight layers whose PyTorch default is kaiming_uniform(a=sqrt(5)): the too-small one
DEFAULT_INIT_TYPES = frozenset({
    "Linear", "Bilinear", "LazyLinear", "Conv1d", "Conv2d", "Conv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
})

# activations whose prescribed init has Xavier's scale: SELU wants LeCun normal,
# std 1/sqrt(fan_in), which is Xavier's on a square layer (Klambauer et al. 2017)
XAVIER_SCALED = frozenset({"selu"})

# A chain is a linked list (item, previous) so that extending it costs O(1).
Chain = Optional[tuple[int, Any]]


def chain_items(chain: Chain) -> list[int]:
    items: list[int] = []
    while chain is not None:
        items.append(chain[0])
        chain = chain[1]
    return items[::-1]


@dataclass
class Run:
    """The longest run of something along one path: how many, and which items."""

    count: int = 0
    chain: Chain = None

    @property
    def items(self) -> list[int]:
        return chain_items(self.chain)


@dataclass
class PathFacts:
    weight_depth: list[int]  # per node: weight layers on the longest path into it
    longest_path: int
    layer_depth: dict[int, int]  # layer index -> its weight depth
    merge_joins: list[int]  # join indices that join paths of different weight depth
    saturating: Run  # saturating activations with no norm/residual between (heads and gates excluded)
    default_init: Run  # default-init Linear/Conv layers with no norm/residual between
    plain: Run  # weight layers with no residual merge between (reset at each merge)
    xavier_relu: Run  # Xavier-initialised layers feeding the ReLU family, no norm/residual between
    kaiming_saturating: Run  # Kaiming-initialised layers feeding sigmoid/tanh, no norm/residual between
    heads: set[int] = field(default_factory=set)  # activations with no weight layer after them
    gates: set[int] = field(default_factory=set)  # saturating activations that only gate a product
    following: dict[int, int] = field(default_factory=dict)  # layer -> the activation its output feeds


def _pick(runs: list[Run], merge: bool) -> Run:
    if not runs:
        return Run()
    if merge:  # the gradient takes the skip path: the shortest run counts
        return min(runs, key=lambda r: r.count)
    return max(runs, key=lambda r: r.count)


def _gates(nodes: list[list], consumers: list[list[int]], activations: list[dict]) -> set[int]:
    """Saturating activations whose every use ends in a product with another signal
    (``x * sigmoid(g)``, ``h * t + x * (1 - t)``), through elementwise ops on the way."""
    gates: set[int] = set()
    for index, (kind, ref, _) in enumerate(nodes):
        if kind != "act" or activations[ref]["family"] != "saturating" or not consumers[index]:
            continue
        frontier, seen, gate = list(consumers[index]), set(), True
        while frontier and gate:
            node = frontier.pop()
            if node in seen:
                continue
            seen.add(node)
            node_kind, _, node_inputs = nodes[node]
            if node_kind == "mul" and len(node_inputs) >= 2:
                continue  # gates a product: this use ends here
            if node_kind in ("op", "mul") and consumers[node] and len(seen) < 64:
                frontier.extend(consumers[node])  # 1 - t, t.view(...), t * 2: follow the value
            else:
                gate = False
        if gate:
            gates.add(ref)
    return gates


def path_facts(nodes: list[list], layers: list[dict], activations: list[dict]) -> PathFacts:
    count = len(nodes)
    consumers: list[list[int]] = [[] for _ in range(count)]
    for index, (_, _, inputs) in enumerate(nodes):
        for source in inputs:
            consumers[source].append(index)
    gates = _gates(nodes, consumers, activations)
    # a value computed from a gate: the product it scales follows its other factor, so a
    # gate branch (squeeze-excitation, highway's transform gate) adds no depth to the path
    gated = [False] * count
    for index, (kind, ref, inputs) in enumerate(nodes):
        gated[index] = (kind == "act" and ref in gates) or (
            kind in ("op", "mul") and len(inputs) == 1 and gated[inputs[0]]
        ) or (kind == "op" and any(gated[i] for i in inputs))
    paths = [list(inputs) for _, _, inputs in nodes]  # the inputs that carry the path into each node
    for index, (kind, _, inputs) in enumerate(nodes):
        if kind == "mul" and len(inputs) >= 2 and not all(gated[i] for i in inputs):
            paths[index] = [i for i in inputs if not gated[i]]
    weight_depth = [0] * count
    layer_depth: dict[int, int] = {}
    merge_joins: list[int] = []
    is_merge = [False] * count
    for index, (kind, ref, _) in enumerate(nodes):
        inputs = paths[index]
        depth = max((weight_depth[i] for i in inputs), default=0)
        if kind == "layer":
            depth += int(layers[ref].get("stack", 1))
            layer_depth.setdefault(ref, depth)
        elif kind == "join" and len({weight_depth[i] for i in inputs}) > 1:
            is_merge[index] = True
            merge_joins.append(ref)
        weight_depth[index] = depth

    # activations with no weight layer downstream are output heads (reverse pass)
    has_layer_after = [False] * count
    for index in range(count - 1, -1, -1):
        has_layer_after[index] = any(nodes[c][0] == "layer" or has_layer_after[c] for c in consumers[index])
    heads = {ref for i, (kind, ref, _) in enumerate(nodes) if kind == "act" and not has_layer_after[i]}

    following = _following_activations(nodes, consumers)

    def mismatch(ref: int, init: str, family: str) -> bool:
        act = following.get(ref)
        return layers[ref].get("init") == init and act is not None and act not in heads \
            and activations[act]["family"] == family and str(activations[act]["type"]).lower() not in XAVIER_SCALED

    best = {"saturating": Run(), "default_init": Run(), "plain": Run(), "xavier_relu": Run(), "kaiming_saturating": Run()}
    runs: list[dict[str, Run]] = []
    for index, (kind, ref, _) in enumerate(nodes):
        here: dict[str, Run] = {}
        for key in best:
            run = _pick([runs[i][key] for i in paths[index]], is_merge[index])
            if kind == "norm" and key != "plain" or is_merge[index] and key == "plain":
                run = Run()  # GL104 counts the weight layers between residual merges
            elif kind == "act" and key == "saturating" and activations[ref]["family"] == "saturating" \
                    and ref not in heads and ref not in gates:
                run = Run(run.count + 1, (ref, run.chain))
            elif kind == "layer" and key == "plain":
                run = Run(run.count + int(layers[ref].get("stack", 1)), (ref, run.chain))
            elif kind == "layer" and key == "default_init" and layers[ref].get("init") == "default" \
                    and layers[ref]["type"] in DEFAULT_INIT_TYPES:
                run = Run(run.count + 1, (ref, run.chain))
            elif kind == "layer" and key == "xavier_relu" and mismatch(ref, "xavier", "relu"):
                run = Run(run.count + 1, (ref, run.chain))
            elif kind == "layer" and key == "kaiming_saturating" and mismatch(ref, "kaiming", "saturating"):
                run = Run(run.count + 1, (ref, run.chain))
            here[key] = run
            if run.count > best[key].count:
                best[key] = run
        runs.append(here)

    return PathFacts(
        weight_depth=weight_depth,
        longest_path=max(weight_depth, default=0),
        layer_depth=layer_depth,
        merge_joins=merge_joins,
        saturating=best["saturating"],
        default_init=best["default_init"],
        plain=best["plain"],
        xavier_relu=best["xavier_relu"],
        kaiming_saturating=best["kaiming_saturating"],
        heads=heads,
        gates=gates,
        following=following,
    )


def _following_activations(nodes: list[list], consumers: list[list[int]], limit: int = 64) -> dict[int, int]:
    """For each layer, the first activation its output reaches before another weight
    layer, a normalisation or a merge (where init scale stops mattering)."""
    following: dict[int, int] = {}
    for index, (kind, ref, _) in enumerate(nodes):
        if kind != "layer" or ref in following:
            continue
        frontier, seen, steps = list(consumers[index]), set(), 0
        while frontier and steps < limit:
            node = frontier.pop(0)
            steps += 1
            if node in seen:
                continue
            seen.add(node)
            node_kind, node_ref, _ = nodes[node]
            if node_kind == "act":
                following[ref] = node_ref
                break
            if node_kind in ("op", "mul"):
                frontier.extend(consumers[node])
    return following


class ModelGraph:
    """What the GL1xx rules read: one analysed model, its layers and path facts."""

    def __init__(self, data: dict[str, Any]) -> None:
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
        self.facts = path_facts(data.get("nodes", []), self.layers, self.activations)
        for ref, depth in self.facts.layer_depth.items():
            self.layers[ref]["depth"] = depth  # shown in the JSON models list and by the probe

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
