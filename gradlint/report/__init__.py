"""Reporters: turn a run's findings into text, JSON, SARIF or GitHub workflow commands."""

from __future__ import annotations

from typing import TextIO

from gradlint.config import Settings
from gradlint.runner import RunResult


def render(result: RunResult, output_format: str, settings: Settings, stream: TextIO, *, quiet: bool = False, color: bool = False,
           show_probe: bool = False) -> None:
    if output_format == "json":
        from gradlint.report.json_report import render_json as render_format
    elif output_format == "sarif":
        from gradlint.report.sarif import render_sarif as render_format
    elif output_format == "github":
        from gradlint.report.github import render_github as render_format
    else:
        from gradlint.report.text import render_text

        render_text(result, settings, stream, quiet=quiet, color=color, show_probe=show_probe)
        return
    render_format(result, settings, stream)
