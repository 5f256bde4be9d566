"""What was not analysed and why, said once and plainly (no torch, no worker here).

- A model that needs constructor arguments nothing supplies is listed with the exact
  ``[[tool.gradlint.models]]`` entry to add; a part (no weight layer) is skipped quietly.
- Problems of the environment rather than of the user's code (an optional package that
  is not installed, a download the scratch area refused, running out of memory) are
  notices: GL002 at severity ``info``, so a pre-commit or CI run does not fail on them
  by default (``--fail-on info`` makes them fail). A missing package is one notice per
  package, naming the models it kept from being analysed, not one per model.
- :func:`overview_lines` is the text report's account: models found, analysed, not
  analysed and why; "All checks passed!" never stands alone when one was not analysed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Sequence, Union

from gradlint.apply import engine_finding
from gradlint.findings import Finding, Severity, Span
from gradlint.model.discover import Candidate
from gradlint.model.messages import Failed, ModelResult, NeedsArguments, Skipped
from gradlint.registry import all_rules
from gradlint.source.index import FileIndex

_MISSING = re.compile(r"^ModuleNotFoundError: No module named '([\w.]+)'")
_ENVIRONMENT = ("tried to download from", "ran out of memory", "likely out of memory")
TEXT_LIMIT = 5  # models needing arguments listed one by one in the text report


def is_environment(reason: str) -> bool:
    """A reason that is about this machine, not the user's code."""
    return any(words in reason for words in _ENVIRONMENT) or bool(_MISSING.match(reason))


def missing_packages(candidates: Sequence[Candidate], results: dict[int, ModelResult], root: Path) -> dict[str, dict]:
    """``{"indices": {candidate index: package}, "packages": {package: [candidates]}}``
    for the models that failed only because a package outside the project is missing."""
    indices: dict[int, str] = {}
    packages: dict[str, list[Candidate]] = {}
    index = FileIndex(root)  # the one import resolver: a name of the project is a bug, not a missing package
    for candidate in candidates:
        result = results.get(candidate.index)
        match = _MISSING.match(result.reason) if isinstance(result, Failed) else None
        if match is None:
            continue
        package = match.group(1).split(".")[0]
        if index.resolve_import(Path(candidate.file), package) is not None:
            continue
        indices[candidate.index] = package
        packages.setdefault(package, []).append(candidate)
    return {"indices": indices, "packages": packages}


def package_notices(missing: dict[str, dict]) -> list[Finding]:
    rule = all_rules()["GL002"]
    notices = []
    for package, group in sorted(missing["packages"].items()):
        first = group[0]
        files = len({c.file for c in group})
        names = [c.name for c in group]
        listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        message = (f"package '{package}' is not installed here: {len(group)} model(s) in {files} file(s) were not "
                   f"analysed ({listed}); install it (pip install {package}) to analyse them")
        span = Span(first.line, first.column, first.line, first.column + len(first.callable))
        # not the code's fault: a notice (README)
        notices.append(engine_finding(rule, span, message, first.shown, severity=Severity.INFO))
    return notices


def entry_text(candidate: Candidate, root: Path) -> str:
    """The ``[[tool.gradlint.models]]`` entry that would build this model, one line per key."""
    relative = os.path.relpath(candidate.file, str(root.resolve())).replace(os.sep, "/")
    values = ", ".join(f"{name} = ..." for name in candidate.needs)
    return f'[[tool.gradlint.models]]\nentry = "{relative}:{candidate.callable}"\nkwargs = {{ {values} }}'


def not_built_entry(candidate: Candidate, result: Union[Skipped, NeedsArguments], root: Path) -> dict[str, Any]:
    """The JSON ``models`` entry of a model that was not built or not analysed."""
    entry: dict[str, Any] = {"name": candidate.name, "path": candidate.shown, "line": candidate.line}
    if isinstance(result, NeedsArguments):
        entry.update({"status": "needs arguments", "reason": "its constructor needs " + ", ".join(candidate.needs),
                      "add": entry_text(candidate, root)})
    else:
        entry.update({"status": "skipped", "reason": result.reason})
    return entry


def overview_lines(models: Sequence[dict[str, Any]]) -> list[str]:
    """The text report's account of the models: how many were found and analysed, and
    each one that was not, with what to do. Empty when the run had no models."""
    analysed = [m for m in models if m.get("status") == "analysed"]
    failed = [m for m in models if m.get("status") == "failed"]
    unloaded = [m for m in models if m.get("status") == "not analysed"]
    needs = [m for m in models if m.get("status") == "needs arguments"]
    parts = [m for m in models if m.get("status") == "skipped"]
    large = [m for m in analysed if m.get("probe_skipped")]
    if not (failed or unloaded or needs or large):
        return []  # every model analysed: the summary line says so (a clean run costs one line)
    found = len(analysed) + len(failed) + len(unloaded) + len(needs)
    line = f"Models: {found} found, {len(analysed)} analysed"
    if failed:
        line += f", {len(failed)} could not be loaded (GL002 above)"
    if unloaded:
        line += f", {len(unloaded)} not analysed in this environment (see above)"
    if needs:
        line += f", {len(needs)} need constructor arguments"
    if parts:
        line += f"; {len(parts)} module(s) without weight layers skipped as parts"
    if large:
        line += f"; {len(large)} above the probe's parameter budget analysed for structure only"
    lines = [line + "."]
    for model in needs[:TEXT_LIMIT]:
        lines.append(f"  {model['path']}:{model['line']}: '{model['name']}' {model['reason']}; to analyse it, add:")
        lines.extend("    " + text for text in model["add"].splitlines())
    if len(needs) > TEXT_LIMIT:
        lines.append(f"  ... and {len(needs) - TEXT_LIMIT} more (--output-format json lists each with its entry)")
    return lines


def not_analysed(models: Sequence[dict[str, Any]]) -> int:
    return sum(1 for m in models if m.get("status") in ("failed", "not analysed", "needs arguments"))
