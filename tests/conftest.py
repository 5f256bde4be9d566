from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def run_gradlint(*args: str, cwd: Path | str | None = None, input: str | None = None, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real command in a subprocess, as a user would."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gradlint", *args],
        cwd=cwd, input=input, capture_output=True, text=True, env=full_env, timeout=timeout,
    )


@pytest.fixture
def gradlint():
    return run_gradlint


def write_project(folder: Path, files: dict[str, str]) -> None:
    """Write a small project: each file's text, dedented, folders made as needed."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def lint_in_process(path: Path, *codes: str) -> list:
    """The findings of ``codes`` on one file, linted in this process with the file's folder as root."""
    from gradlint.config import Settings
    from gradlint.runner import active_rules, lint_file

    settings = Settings(select=list(codes), root=path.parent)
    return lint_file(path, str(path), active_rules(settings), settings)
