"""Inline suppressions (``# noqa``, ``# gradlint: ignore[...]``) and per-file ignores."""

from __future__ import annotations

import fnmatch
import re
from typing import Iterable, Mapping, Optional

from gradlint.findings import Finding

# flake8's spelling: "# noqa", "# noqa: GL206", "# NOQA:GL206,GL202"
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.I)
_IGNORE = re.compile(r"#\s*gradlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.I)

ALL = frozenset({"*"})


def suppressed_codes(line_text: str) -> Optional[frozenset[str]]:
    """The codes a line's comment suppresses; ``ALL`` for a bare ``# noqa``; None if none."""
    if "#" not in line_text:
        return None
    codes: set[str] = set()
    found = False
    for pattern in (_NOQA, _IGNORE):
        for match in pattern.finditer(line_text):
            found = True
            listed = match.group("codes")
            if not listed or not listed.strip():
                return ALL
            codes.update(c.upper() for c in re.split(r"[,\s]+", listed.strip()) if c)
    return frozenset(codes) if found else None


def is_suppressed_inline(finding: Finding, line_text: str) -> bool:
    codes = suppressed_codes(line_text)
    if codes is None:
        return False
    return codes is ALL or any(finding.code.startswith(code) for code in codes)


def per_file_ignored(path: str, per_file_ignores: Mapping[str, Iterable[str]]) -> list[str]:
    """Code prefixes ignored for ``path`` (a posix path relative to the project root)."""
    ignored: list[str] = []
    name = path.rsplit("/", 1)[-1]
    for pattern, codes in per_file_ignores.items():
        if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(name, pattern) or (
            pattern.endswith("/") and path.startswith(pattern)
        ):
            ignored.extend(codes)
    return ignored
