"""What ``gradlint.preflight`` returns: the findings, and the CLI's text and JSON of them."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from typing import Any, Optional, TextIO

from gradlint.findings import Finding, Severity


@dataclass
class PreflightReport:
    findings: list[Finding] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)  # the CLI's JSON ``models`` entry (probe table)
    notices: list[str] = field(default_factory=list)  # why something was not checked (FSDP, DeepSpeed)
    eval_modules: list[str] = field(default_factory=list)  # modules in eval mode when preflight ran ('' = the model)
    rank: int = 0  # the distributed rank; print() writes on rank 0 only

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    def at_least(self, severity: str) -> list[Finding]:
        wanted = Severity(severity).rank
        return [f for f in self.findings if f.severity.rank >= wanted]

    def text(self, color: bool = False) -> str:
        """The CLI's text output: findings under the model, confirmations, the per-layer chart."""
        from gradlint.config import Settings
        from gradlint.report.text import render_text
        from gradlint.runner import RunResult

        stream = io.StringIO()
        for notice in self.notices:
            stream.write(f"gradlint preflight: {notice}\n")
        render_text(RunResult(findings=list(self.findings), files=0, models=list(self.models)), Settings(), stream,
                    color=color)
        return stream.getvalue()

    def print(self, stream: Optional[TextIO] = None) -> None:
        if self.rank == 0:
            (stream or sys.stdout).write(self.text())

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON object (schema version 1), plus ``notices``."""
        from gradlint.report.json_report import to_json
        from gradlint.runner import RunResult

        data = to_json(RunResult(findings=list(self.findings), files=0, models=list(self.models)))
        data["notices"] = list(self.notices)
        return data

    def __str__(self) -> str:
        return self.text()
