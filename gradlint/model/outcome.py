"""What analysing one model came to, as typed facts for the rules about the analysis
itself (GL002, GL003; ``READS = "outcome"``): the model could not be imported, built or
started (and why, how long it took, whether the reason is this machine's), could not be
probed, or its graph could not be recorded. The engine finds these facts; the rules
decide and word the findings. No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from gradlint.registry import Report, Span


@dataclass(frozen=True)
class LoadFailure:
    """The worker could not import, build, trace or start the model."""

    stage: str  # import | build | trace | analyse | probe | start
    reason: str
    seconds: float
    timeout: bool
    environment: bool  # the reason is about this machine (a missing package, memory), not the code
    others: tuple[str, ...] = ()  # the file's other models that failed to import for the same reason
    same_as: Optional[str] = None  # the model of the same file whose failure this one repeats


@dataclass(frozen=True)
class ProbeFailure:
    """The model was analysed but the probe could not run it."""

    kind: str  # error | timeout | memory ... as the worker reports it
    message: str
    seconds: float


@dataclass
class ModelOutcome:
    """One model candidate of the run and how far its analysis got."""

    name: str
    path: str  # the path shown to the user
    span: Span  # the candidate's name where the model is defined (or configured)
    entry_kind: str  # class | factory | config | cli
    entry: str  # the callable that builds it
    load_failure: Optional[LoadFailure] = None
    probe_failure: Optional[ProbeFailure] = None
    recorded: bool = True  # torch.fx or a recorded forward gave the graph (not the module tree)
    trace_note: Optional[str] = None  # why neither did, when not recorded

    def report(self, message: str) -> Report:
        """A report at the model's own line."""
        return Report(self.span, message)


def duration(seconds: float) -> str:
    """Whole seconds, so that a message repeats run to run (timeouts say their limit)."""
    return "under 1 s" if seconds < 1 else f"{seconds:.0f} s"
