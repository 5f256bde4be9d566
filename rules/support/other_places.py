"""A finding's other place where its message already names a second line (``step on line
12``, ``wrapped in DistributedDataParallel (line 7)``): the same line as a ``Related``, so
that SARIF's related locations and the editor's related information can point at it."""

from __future__ import annotations

from typing import Optional

from gradlint.findings import Related, Span


def other_place(line: int, message: str, reported: Span, path: str = "") -> tuple[Related, ...]:
    """``line`` with what it is, unless it is unknown (0) or the reported line itself."""
    return (Related(line, message, path),) if line and (path or line != reported.line) else ()


def step_place(receiver: Optional[str], count: str, line: int, reported: Span) -> tuple[Related, ...]:
    """The optimiser's step of a gradient-accumulation window (GL204, GL207, GL208)."""
    return other_place(line, f"`{receiver or 'optimizer'}.step()` runs here, once every {count} micro-batches",
                       reported)
