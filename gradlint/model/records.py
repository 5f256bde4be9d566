"""The typed records of a model graph, built once from the worker's JSON.

The worker (``extract.GraphBuilder``) sends a graph as plain JSON: lists of layers,
activations, normalisations and joins, each a dict with the user's source place, and the
nodes ``[kind, ref, inputs]`` that connect them. The main process turns each list into
these frozen records where it receives the graph (``ModelGraph``), so every reader (the
path facts, the run walker, the GL1xx rules, the probe summary, the JSON ``models``
list) reads named, typed fields and no one indexes a dict by its keys. The wire format
does not change. No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from gradlint.findings import Span, shown_path


class Node(NamedTuple):
    """One node of the graph, in topological order: ``kind`` is ``in``, ``layer`` (``ref``
    into the layers), ``act`` (into the activations), ``norm``, ``join``, ``mul``, ``op``
    or ``out``; ``inputs`` are indices of earlier nodes. A tuple: the path facts unpack
    every node in their inner loops."""

    kind: str
    ref: int
    inputs: tuple[int, ...]


@dataclass(frozen=True)
class Entry:
    """A graph entry at a place in the user's code."""

    name: str
    span: Span  # as the worker found it; ``path`` is the file there ("" when none)
    shown: str  # that file as shown to the user ("" when the worker found none)

    def place(self, fallback: Span) -> Span:
        """Where the entry is as shown to the user, with a missing end filled in;
        ``fallback`` (the model's place) when the worker found no place."""
        if not self.span.path or not self.span.line:
            return fallback
        column = self.span.column or 1
        return Span(self.span.line, column, self.span.end_line or self.span.line,
                    self.span.end_column or column + 1, self.shown)


@dataclass(frozen=True)
class Layer(Entry):
    """A weight layer (Linear, Conv, RNN, attention...). ``depth`` is a path fact: the
    weight layers on the longest path into it, set by ``ModelGraph`` (0 when unreached)."""

    type: str
    init: str  # default | kaiming | xavier | other, read from the weights
    fan_in: int
    fan_out: int
    stack: int = 1  # nn.LSTM(num_layers=2) is 2 layers deep
    depth: int = 0


@dataclass(frozen=True)
class Activation(Entry):
    """An activation, a module (``nn.Tanh()``) or a call in a forward (``torch.tanh``)."""

    type: str
    family: str  # saturating | relu | smooth | other
    module: bool = True
    owner: str = ""  # for a call: the module whose forward makes it


@dataclass(frozen=True)
class Norm(Entry):
    """A normalisation layer or call."""

    type: str


@dataclass(frozen=True)
class Join(Entry):
    """An add or a concatenation of two or more signals (a residual merge candidate)."""

    op: str
    owner: str = ""


def _placed(data: dict[str, Any]) -> dict[str, Any]:
    """The fields every entry has: its name, its span and the file as shown."""
    line, file = int(data.get("line") or 0), str(data.get("file") or "")
    span = Span(line, int(data.get("column", 1)), int(data.get("end_line", line)), int(data.get("end_column", 1)), file)
    return {"name": str(data.get("name", "")), "span": span, "shown": shown_path(file) if file else ""}


def node_from_wire(data: list[Any]) -> Node:
    kind, ref, inputs = data
    return Node(str(kind), int(ref), tuple(int(i) for i in inputs))


def layer_from_wire(data: dict[str, Any]) -> Layer:
    return Layer(**_placed(data), type=str(data.get("type", "")),
                 init=str(data.get("init", "other")), fan_in=int(data.get("fan_in") or 0),
                 fan_out=int(data.get("fan_out") or 0), stack=int(data.get("stack", 1)),
                 depth=int(data.get("depth") or 0))


def activation_from_wire(data: dict[str, Any]) -> Activation:
    return Activation(**_placed(data), type=str(data.get("type", "")),
                      family=str(data.get("family", "other")), module=bool(data.get("module", True)),
                      owner=str(data.get("owner") or ""))


def norm_from_wire(data: dict[str, Any]) -> Norm:
    return Norm(**_placed(data), type=str(data.get("type", "")))


def join_from_wire(data: dict[str, Any]) -> Join:
    return Join(**_placed(data), op=str(data.get("op", "")),
                owner=str(data.get("owner") or ""))


def label(item: Entry) -> str:
    """How a message names a layer or activation: its module path, or the call in forward."""
    if not isinstance(item, Activation) or item.module:
        return f"'{item.name}'" if item.name else "the model itself"
    where = f"{item.owner}.forward, line {item.span.line}" if item.owner else f"forward, line {item.span.line}"
    return f"{item.type}() in {where}"
