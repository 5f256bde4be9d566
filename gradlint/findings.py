"""The Finding: what every stage produces and every reporter consumes."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional


class Severity(str, enum.Enum):
    """How serious a finding is; the failing severity decides the exit code."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True)
class Span:
    """Where something is in the user's code, the one position type of every stage.

    1-based lines, 1-based columns in characters, exclusive end column (SARIF's
    convention); an end of 0 means not known (``filled`` gives it one character).
    ``path`` is the file: empty when the context names it (a source rule's report is
    in the file being linted), the real path on the worker side, the path shown to the
    user in a finding or a probe summary."""

    line: int
    column: int = 1
    end_line: int = 0
    end_column: int = 0
    path: str = ""

    def filled(self) -> "Span":
        """The same span with a missing end made one character long."""
        return Span(self.line, self.column, self.end_line or self.line, self.end_column or self.column + 1, self.path)


def shown_path(file: str) -> str:
    """A file as shown to the user: relative to the working directory when inside it."""
    try:
        return Path(file).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return Path(file).as_posix()


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based (line, column) positions; columns in characters."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True)
class Fix:
    """A suggested change that removes the finding. An ``unsafe`` fix may change what the
    code means beyond the finding (ruff's convention): it is shown, but ``--fix`` applies
    it only with ``--unsafe-fixes``."""

    message: str
    edits: tuple[Edit, ...]
    unsafe: bool = False


@dataclass(frozen=True)
class Related:
    """Another place a finding is about: where a module reported frozen is put back in train
    mode, the loss an activation's output feeds. SARIF's ``relatedLocations`` and the
    editor's related information show it; ``path`` is empty for the finding's own file."""

    line: int
    message: str
    path: str = ""


@dataclass
class Confirmation:
    """What the probe measured about a static finding."""

    status: str = "not-probed"  # confirmed | refuted | not-probed
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Finding:
    """One problem at one place in the user's code. Lines and columns are 1-based;
    the end column is exclusive (SARIF's convention)."""

    code: str
    name: str
    severity: Severity
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fix: Optional[Fix] = None
    confirmation: Optional[Confirmation] = None
    model: Optional[str] = None
    related: tuple[Related, ...] = ()

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "fix": asdict(self.fix) if self.fix else None,
            "confirmation": asdict(self.confirmation or Confirmation()),
        }
        if self.model is not None:
            data["model"] = self.model
        if self.related:
            data["related"] = [{"path": r.path or self.path, "line": r.line, "message": r.message} for r in self.related]
        return data
