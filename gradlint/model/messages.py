"""The messages between the model worker and the main process, typed.

The worker writes one JSON line per event (:class:`Event`); a ``result`` event carries
one model's :data:`ModelResult`. The main process turns the lines back into these
classes at once (model.pool), so no one downstream reads a dict by its keys. Results
with a status other than "ok" carry no graph, and each kind says only what it knows.
No torch here: both sides import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional, Union


@dataclass(frozen=True)
class Analysed:
    """The model was built and analysed: its graph, and the probe's measurements when it ran."""

    status: ClassVar[str] = "ok"
    graph: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    probe: Optional[dict[str, Any]] = None
    seconds: float = 0.0
    memory: dict[str, float] = field(default_factory=dict)

    @property
    def probe_error(self) -> Optional["ProbeError"]:
        """Why the probe could not measure the model, when it failed."""
        if isinstance(self.probe, dict) and isinstance(self.probe.get("error"), dict):
            return ProbeError.from_dict(self.probe["error"])
        return None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "graph": self.graph, "timings": self.timings}
        if self.probe is not None:
            data["probe"] = self.probe
        return {**data, "seconds": self.seconds, "memory": self.memory}


@dataclass(frozen=True)
class Failed:
    """The model could not be analysed: at which stage (import, build, trace, analyse,
    probe, start), why, after how long, and whether the time limit stopped it."""

    status: ClassVar[str] = "error"
    stage: str
    reason: str
    seconds: float = 0.0
    timeout: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "stage": self.stage, "seconds": self.seconds}
        if self.timeout:
            data["timeout"] = True
        return {**data, "reason": self.reason}


@dataclass(frozen=True)
class Skipped:
    """Built, but not a model to check (no forward of its own, no weight layer)."""

    status: ClassVar[str] = "skipped"
    reason: str
    stage: str = "build"
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "stage": self.stage, "seconds": self.seconds, "reason": self.reason}


@dataclass(frozen=True)
class NoTorch:
    """torch cannot be imported here: a fact about the environment, not about the model."""

    status: ClassVar[str] = "no-torch"
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class NeedsArguments:
    """Never sent to the worker: its constructor wants arguments the run does not give."""

    status: ClassVar[str] = "needs-arguments"
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status}


ModelResult = Union[Analysed, Failed, Skipped, NoTorch, NeedsArguments]


def result_from_dict(data: dict[str, Any]) -> ModelResult:
    """A result read back from JSON; one this version cannot read is a failure to start."""
    status = data.get("status")
    if status == "ok":
        return Analysed(graph=dict(data.get("graph") or {}), timings=dict(data.get("timings") or {}),
                        probe=data.get("probe"), seconds=float(data.get("seconds", 0.0)),
                        memory=dict(data.get("memory") or {}))
    if status == "skipped":
        return Skipped(str(data.get("reason", "")), str(data.get("stage", "build")), float(data.get("seconds", 0.0)))
    if status == "no-torch":
        return NoTorch(str(data.get("reason", "")))
    if status == "needs-arguments":
        return NeedsArguments()
    return Failed(str(data.get("stage", "start")), str(data.get("reason", "unknown error")),
                  float(data.get("seconds", 0.0)), bool(data.get("timeout", False)))


@dataclass(frozen=True)
class ProbeError:
    """The probe ran but could not measure: what kind of failure, and its one-line message."""

    kind: str
    message: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ProbeError":
        return cls(str(data.get("kind", "failed")), str(data.get("message", "")))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Event:
    """One line the worker writes: ``ready``, ``start`` and ``stage`` (progress of model
    ``index``), ``result`` (its :data:`ModelResult`), ``crashed`` (the forked child
    running it died with ``returncode``), ``no-torch`` and ``done``."""

    event: str
    index: Optional[int] = None
    stage: Optional[str] = None
    result: Optional[ModelResult] = None
    returncode: Optional[int] = None
    message: Optional[str] = None
    torch: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.event}
        for name in ("index", "stage", "returncode", "message", "torch"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.result is not None:
            data["result"] = self.result.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Event":
        """Raises KeyError, TypeError or ValueError on a line that is not an event."""
        result = data.get("result")
        index = data.get("index")
        returncode = data.get("returncode")
        return cls(
            event=str(data["event"]), index=int(index) if index is not None else None, stage=data.get("stage"),
            result=result_from_dict(result) if isinstance(result, dict) else None,
            returncode=int(returncode) if returncode is not None else None,
            message=data.get("message"), torch=data.get("torch"),
        )
