"""The error ``gradlint.preflight`` raises (no torch here: ``import gradlint`` stays light)."""

from __future__ import annotations

from typing import Any, Optional


class PreflightError(Exception):
    """Preflight could not run on what it was given (``report`` is None), or
    ``raise_on`` was met (``report`` carries the findings)."""

    def __init__(self, message: str, report: Optional[Any] = None) -> None:
        super().__init__(message)
        self.report = report
