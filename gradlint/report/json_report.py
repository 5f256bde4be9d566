"""JSON output, schema version 1 (documented in README.md, "JSON output")."""

from __future__ import annotations

import json
from typing import TextIO

from gradlint import __version__
from gradlint.config import Settings
from gradlint.runner import RunResult

SCHEMA_VERSION = 1


def to_json(result: RunResult) -> dict:
    return {
        "version": SCHEMA_VERSION,
        "gradlint_version": __version__,
        "findings": [finding.to_dict() for finding in result.findings],
        "models": result.models,
        "notices": list(result.notices),
    }


def render_json(result: RunResult, settings: Settings, stream: TextIO) -> None:
    json.dump(to_json(result), stream, indent=2, sort_keys=False)
    stream.write("\n")
