"""``--statistics``: the number of findings per rule code, printed as ruff prints it.

Text: ``count<TAB>code<TAB>[*] name`` per code, counts right-aligned and codes
left-aligned to the widest, most frequent first; the ``[*]``/``[ ]`` column appears
only when some finding is fixable. JSON: a list of ``{code, name, count, fixable}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TextIO

from gradlint.runner import RunResult


@dataclass
class Statistic:
    code: str
    name: str
    count: int
    fixable: bool


def statistics(result: RunResult) -> list[Statistic]:
    by_code: dict[str, Statistic] = {}
    for finding in result.findings:
        entry = by_code.setdefault(finding.code, Statistic(finding.code, finding.name, 0, False))
        entry.count += 1
        entry.fixable = entry.fixable or finding.fix is not None
    return sorted(by_code.values(), key=lambda s: (-s.count, s.code))


def render_statistics(result: RunResult, output_format: str, stream: TextIO) -> None:
    rows = statistics(result)
    if output_format == "json":
        json.dump([row.__dict__ for row in rows], stream, indent=2)
        stream.write("\n")
        return
    if not rows:
        return
    count_width = max(len(str(row.count)) for row in rows)
    code_width = max(len(row.code) for row in rows)
    any_fixable = any(row.fixable for row in rows)
    for row in rows:
        marker = ("[*] " if row.fixable else "[ ] ") if any_fixable else ""
        stream.write(f"{str(row.count).rjust(count_width)}\t{row.code.ljust(code_width)}\t{marker}{row.name}\n")
