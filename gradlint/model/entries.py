"""A model to build (:class:`Candidate`), how it is named, and how a config entry's
``config = {...}`` becomes the config object its constructor takes (used by ``discover``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional, Sequence


@dataclass
class Candidate:
    """One model to build: ``callable`` in ``file`` (a class or a factory)."""

    file: str  # absolute path
    shown: str  # the path shown to the user
    callable: str
    kind: str  # class | factory | config | cli
    line: int
    column: int = 1
    kwargs: dict[str, Any] = field(default_factory=dict)
    input: Any = None  # an input spec string or list, or None
    name: str = ""  # display name
    index: int = 0
    args: list[Any] = field(default_factory=list)  # positional literals (from an example call)
    needs: list[str] = field(default_factory=list)  # required parameters nothing supplies: not built
    example_input: bool = False  # ``input`` is the literal tensor of an example call (its batch may be 1)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> tuple[str, str]:
        return (self.file, self.callable)


def name_candidates(candidates: list[Candidate]) -> None:
    """Display names: the callable; with its arguments when one file builds it several
    ways; with the file when several files define it."""
    for index, candidate in enumerate(candidates):
        candidate.index = index
    unnamed = [c for c in candidates if not c.name]
    per_key: dict[tuple[str, str], int] = {}
    for candidate in unnamed:
        per_key[candidate.key] = per_key.get(candidate.key, 0) + 1
    for candidate in unnamed:
        candidate.name = candidate.callable
        if per_key[candidate.key] > 1:
            candidate.name += call_text(candidate.args, candidate.kwargs)
    counts: dict[str, int] = {}
    for candidate in unnamed:
        counts[candidate.name] = counts.get(candidate.name, 0) + 1
    for candidate in unnamed:
        if counts[candidate.name] > 1:
            candidate.name = f"{candidate.shown}:{candidate.name}"


def call_text(args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """``(4, n_layer=2)``: how the arguments read in a name or a message."""
    def show(value: Any) -> str:
        if isinstance(value, dict) and "__class__" in value:
            inner = {k: v for k, v in value.items() if k != "__class__"}
            return str(value["__class__"]).rpartition(":")[2] + call_text([], inner)
        return repr(value)
    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def with_config(entry: dict[str, Any], known: Optional[Candidate]) -> dict[str, Any]:
    """An entry's ``config = {...}`` builds the config object of the found class's
    config parameter with those fields (``GPT(GPTConfig(n_layer=4))``)."""
    if "config" not in entry:
        return entry
    kwargs = dict(entry.get("kwargs", {}))
    built = dict((known.kwargs if known else {}) or {})
    parameter = next((k for k, v in built.items() if isinstance(v, dict) and "__class__" in v), None)
    if parameter is None:  # the worker says so: no config class found for this constructor
        kwargs["config"] = {"__class__": None, **entry["config"]}
    else:
        kwargs[parameter] = {**built[parameter], **entry["config"]}
    return {**entry, "kwargs": kwargs}
