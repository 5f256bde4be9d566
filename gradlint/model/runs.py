"""The "longest run between resets" walker that the structure rules configure.

A structure rule (GL101-GL104) asks one question of a model graph: along one forward
path, how many of *something* follow each other with nothing in between that resets the
scale? A rule declares it as a :class:`RunSpec` in its module (``RUNS = (SPEC, ...)``,
read by the registry):

- ``counts``: what a node adds to the run (0: the node passes the run on unchanged);
- ``resets``: what ends a run (``NORM``: a normalisation layer, ``MERGE``: a residual
  merge, a join of paths of different weight depth);
- ``at_merge``: which incoming run a merge passes on: ``SHORTEST``, the skip path's (the
  gradient takes it), or ``LONGEST``;
- ``excluded``: activations that never count (``HEADS``: no weight layer after them,
  ``GATES``: they only scale a product).

The ModelGraph computes every declared spec in one forward pass over its nodes (linear in
the graph's size, ``walk``) and keeps the longest run of each; a rule reads it with
``graph.run(SPEC)`` and owns the threshold and the message. The engine never names a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from gradlint.model.paths import PathFacts
from gradlint.model.records import Activation, Layer

NORM, MERGE = "norm", "merge"  # what resets a run
SHORTEST, LONGEST = "shortest", "longest"  # which run a merge passes on
HEADS, GATES = "heads", "gates"  # activations a run never counts

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
    """The longest run of something along one path: how many, and which items (the
    ``ref`` of each counted node: a layer's or an activation's index)."""

    count: int = 0
    chain: Chain = None

    @property
    def items(self) -> list[int]:
        return chain_items(self.chain)


class Step:
    """One node of the graph as a run spec's ``counts`` sees it."""

    __slots__ = ("kind", "ref", "_facts", "_layers", "_activations")

    def __init__(self, kind: str, ref: int, facts: PathFacts, layers: Sequence[Layer],
                 activations: Sequence[Activation]) -> None:
        self.kind = kind
        self.ref = ref
        self._facts = facts
        self._layers = layers
        self._activations = activations

    @property
    def layer(self) -> Optional[Layer]:
        """The weight layer of a ``layer`` node (None for other kinds)."""
        return self._layers[self.ref] if self.kind == "layer" else None

    @property
    def activation(self) -> Optional[Activation]:
        """The activation of an ``act`` node (None for other kinds)."""
        return self._activations[self.ref] if self.kind == "act" else None

    @property
    def is_head(self) -> bool:
        return self.kind == "act" and self.ref in self._facts.heads

    @property
    def is_gate(self) -> bool:
        return self.kind == "act" and self.ref in self._facts.gates

    @property
    def following(self) -> Optional[Activation]:
        """For a layer: the activation its output feeds, unless that one is an output head."""
        act = self._facts.following.get(self.ref) if self.kind == "layer" else None
        if act is None or act in self._facts.heads:
            return None
        return self._activations[act]


@dataclass(frozen=True, eq=False)  # identity: a spec is its own key in a graph's runs
class RunSpec:
    """One "longest run between resets" a rule wants measured on every model graph."""

    counts: Callable[[Step], int]  # what a node adds to the run; 0 passes it on
    resets: frozenset[str] = frozenset({NORM})  # NORM and/or MERGE
    at_merge: str = SHORTEST  # SHORTEST (the skip path's run) or LONGEST
    excluded: frozenset[str] = field(default_factory=frozenset)  # HEADS and/or GATES

    def __post_init__(self) -> None:
        if not self.resets <= {NORM, MERGE} or self.at_merge not in (SHORTEST, LONGEST) \
                or not self.excluded <= {HEADS, GATES}:
            raise ValueError(f"bad RunSpec: resets {set(self.resets)}, at_merge {self.at_merge!r}, "
                             f"excluded {set(self.excluded)}")


def walk(facts: PathFacts, layers: Sequence[Layer], activations: Sequence[Activation],
         specs: Sequence[RunSpec]) -> dict[RunSpec, Run]:
    """The longest run of each spec over the graph, all in one forward pass."""
    best = [Run() for _ in specs]
    if not specs:
        return {}
    runs: list[list[Run]] = []  # per node, per spec: the run that reaches the node's output
    for index, (kind, ref, _) in enumerate(facts.nodes):
        inputs = facts.paths[index]
        merge = facts.is_merge[index]
        step = Step(kind, ref, facts, layers, activations)
        here: list[Run] = []
        for position, spec in enumerate(specs):
            incoming = [runs[i][position] for i in inputs]
            if not incoming:
                run = Run()
            elif merge and spec.at_merge == SHORTEST:  # the gradient takes the skip path
                run = min(incoming, key=lambda r: r.count)
            else:
                run = max(incoming, key=lambda r: r.count)
            if (kind == "norm" and NORM in spec.resets) or (merge and MERGE in spec.resets):
                run = Run()
            elif not _excluded(step, spec):
                added = spec.counts(step)
                if added:
                    run = Run(run.count + added, (ref, run.chain))
            here.append(run)
            if run.count > best[position].count:
                best[position] = run
        runs.append(here)
    return dict(zip(specs, best))


def _excluded(step: Step, spec: RunSpec) -> bool:
    return bool(spec.excluded) and ((HEADS in spec.excluded and step.is_head) or (GATES in spec.excluded and step.is_gate))
