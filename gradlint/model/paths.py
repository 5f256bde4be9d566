"""The generic path facts of a model graph, computed once per graph: weight depth, the
longest path, residual merges, output heads, gates and which activation each layer
feeds. The structure rules read these, and the run walker (``runs.py``) walks the
paths they define. No torch here.

The graph is a list of nodes (``records.Node``) in topological order, each ``(kind, ref, inputs)``:
``kind`` is ``in``, ``layer`` (ref into ``layers``), ``act`` (into ``activations``),
``norm`` (into ``norms``), ``join`` (an add or concatenation, ref into ``joins``),
``mul``, ``op`` or ``out``; ``inputs`` are indices of earlier nodes. One forward pass
over it (linear in its size) gives every fact below. A product with a gate (a sigmoid or
tanh whose every use scales another signal) follows its other factor: the gate's branch
adds no depth, so ``h * t + x * (1 - t)`` is a merge of paths of different depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from gradlint.model.records import Activation, Layer, Node


@dataclass
class PathFacts:
    nodes: Sequence[Node]  # the graph's nodes
    paths: list[list[int]]  # per node: the inputs that carry the path into it (a gate's branch does not)
    is_merge: list[bool]  # per node: a join of paths of different weight depth (a residual/skip merge)
    weight_depth: list[int]  # per node: weight layers on the longest path into it
    longest_path: int
    layer_depth: dict[int, int]  # layer index -> its weight depth
    merge_joins: list[int]  # join indices that join paths of different weight depth (longest or shortest)
    heads: set[int] = field(default_factory=set)  # activations with no weight layer after them
    gates: set[int] = field(default_factory=set)  # saturating activations that only gate a product
    following: dict[int, int] = field(default_factory=dict)  # layer -> the activation its output feeds


def _gates(nodes: Sequence[Node], consumers: list[list[int]], activations: Sequence[Activation]) -> set[int]:
    """Saturating activations whose every use ends in a product with another signal
    (``x * sigmoid(g)``, ``h * t + x * (1 - t)``), through elementwise ops on the way."""
    gates: set[int] = set()
    for index, (kind, ref, _) in enumerate(nodes):
        if kind != "act" or activations[ref].family != "saturating" or not consumers[index]:
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


def path_facts(nodes: Sequence[Node], layers: Sequence[Layer], activations: Sequence[Activation]) -> PathFacts:
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
    # per node: weight layers on the shortest path into it. A join whose inputs agree on
    # the longest path can still join paths of different depth: cat([b1, b2]) where b2
    # already holds a weight-free branch (b2 = max_pool(x) + conv(x)) gives the gradient
    # a shorter way back than b1 does
    shortest = [0] * count
    layer_depth: dict[int, int] = {}
    merge_joins: list[int] = []
    is_merge = [False] * count
    for index, (kind, ref, _) in enumerate(nodes):
        carried = paths[index]
        depth = max((weight_depth[i] for i in carried), default=0)
        short = min((shortest[i] for i in carried), default=0)
        if kind == "layer":
            stack = layers[ref].stack
            depth += stack
            short += stack
            layer_depth.setdefault(ref, depth)
        elif kind == "join" and (len({weight_depth[i] for i in carried}) > 1 or len({shortest[i] for i in carried}) > 1):
            is_merge[index] = True
            merge_joins.append(ref)
        weight_depth[index] = depth
        shortest[index] = short

    # activations with no weight layer downstream are output heads (reverse pass)
    has_layer_after = [False] * count
    for index in range(count - 1, -1, -1):
        has_layer_after[index] = any(nodes[c][0] == "layer" or has_layer_after[c] for c in consumers[index])
    heads = {ref for i, (kind, ref, _) in enumerate(nodes) if kind == "act" and not has_layer_after[i]}

    return PathFacts(
        nodes=nodes,
        paths=paths,
        is_merge=is_merge,
        weight_depth=weight_depth,
        longest_path=max(weight_depth, default=0),
        layer_depth=layer_depth,
        merge_joins=merge_joins,
        heads=heads,
        gates=gates,
        following=_following_activations(nodes, consumers),
    )


def _following_activations(nodes: Sequence[Node], consumers: list[list[int]], limit: int = 64) -> dict[int, int]:
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
