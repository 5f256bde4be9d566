"""GitHub Actions workflow commands, escaped exactly as @actions/core does."""

from __future__ import annotations

from typing import TextIO

from gradlint.config import Settings
from gradlint.runner import RunResult

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: RunResult, settings: Settings, stream: TextIO) -> None:
    for notice in result.notices:  # about the environment: no file, no line
        stream.write(f"::notice title=gradlint::{escape_data(notice)}\n")
    for f in result.findings:
        properties = {
            "title": f"{f.code} {f.name}",
            "file": f.path,
            "line": f.line,
            "endLine": f.end_line,
            "col": f.column,
            "endColumn": f.end_column,
        }
        if f.end_line != f.line:
            # GitHub ignores column ranges across lines
            del properties["col"], properties["endColumn"]
        props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
        stream.write(f"::{_LEVEL[f.severity.value]} {props}::{escape_data(f'{f.code} {f.message}')}\n")
