"""SARIF 2.1.0 for code scanning: rule metadata and help come from the rule modules."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Optional, TextIO
from urllib.parse import quote

from gradlint import __version__
from gradlint.config import Settings
from gradlint.findings import Finding
from gradlint.registry import Rule, all_rules
from gradlint.runner import RunResult
from gradlint.source.index import decode_source
from gradlint.source.unit import source_lines

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/gradlint/gradlint"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_LIMIT = 1024  # GitHub truncates descriptions longer than this


def _clip(text: str) -> str:
    return text if len(text) <= _LIMIT else text[: _LIMIT - 1] + "…"


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    what = " ".join(rule.section("What it does").split())
    why = " ".join(rule.section("Why is this bad?").split())
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _clip(rule.summary)},
        "fullDescription": {"text": _clip(f"{what} {why}".strip() or rule.summary)},
        "help": {"text": rule.doc, "markdown": rule.doc},
        "helpUri": rule.url,
        "defaultConfiguration": {"level": _LEVEL[rule.severity.value]},
        "properties": {"tags": [_category(rule.code)], "fixable": rule.fixable},
    }


def _category(code: str) -> str:
    return {"0": "gradlint", "1": "model-structure", "2": "training-code", "3": "measured",
            "4": "parameters-and-optimizer"}.get(code[2], "gradlint")


def find_repo_root(start: Path) -> Optional[Path]:
    start = start.resolve()
    for folder in [start, *start.parents]:
        if (folder / ".git").exists():
            return folder
    return None


def _artifact(path: str, base: Path) -> dict[str, Any]:
    absolute = Path(path).resolve()
    try:
        return {"uri": quote(absolute.relative_to(base).as_posix()), "uriBaseId": "%SRCROOT%"}
    except ValueError:
        return {"uri": absolute.as_uri()}


def fingerprint(finding: Finding, line_text: str, uri: str = "", occurrence: int = 1) -> str:
    # stable when unrelated lines move: code, the repo-relative file (not the path as
    # shown, which depends on the folder gradlint ran from) and the line's own text;
    # the occurrence tells apart identical lines in one file, as GitHub's own
    # primaryLocationLineHash does
    key = f"{finding.code}\0{uri or finding.path}\0{line_text.strip()}"
    return f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}:{occurrence}"


def _line_text(path: str, line: int, cache: dict[str, list[str]]) -> str:
    if path not in cache:
        try:
            cache[path] = source_lines(decode_source(Path(path).read_bytes())[0])  # as the linter decoded it
        except OSError:
            cache[path] = []
    lines = cache[path]
    return lines[line - 1] if 0 < line <= len(lines) else ""


def to_sarif(result: RunResult, settings: Settings) -> dict[str, Any]:
    rules = list(all_rules().values())
    index = {rule.code: i for i, rule in enumerate(rules)}
    base = find_repo_root(Path.cwd()) or Path.cwd().resolve()
    lines: dict[str, list[str]] = {}
    results = []
    seen: dict[str, int] = {}
    for f in result.findings:
        artifact = _artifact(f.path, base)
        print_key = fingerprint(f, _line_text(f.path, f.line, lines), artifact["uri"])
        seen[print_key] = seen.get(print_key, 0) + 1
        entry: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _LEVEL[f.severity.value],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        },
                    }
                }
            ],
            "partialFingerprints": {"gradlint/v1": print_key.rsplit(":", 1)[0] + f":{seen[print_key]}"},
        }
        if f.related:
            entry["relatedLocations"] = [
                {"id": number, "message": {"text": related.message},
                 "physicalLocation": {"artifactLocation": _artifact(related.path or f.path, base),
                                      "region": {"startLine": related.line}}}
                for number, related in enumerate(f.related, start=1)
            ]
        if f.confirmation is not None:
            entry["properties"] = {
                "confirmation": f.confirmation.status,
                "evidence": f.confirmation.evidence,
            }
        if f.model:
            entry.setdefault("properties", {})["model"] = f.model
        results.append(entry)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "gradlint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFO_URI,
                        "rules": [rule_descriptor(rule) for rule in rules],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri() + "/"}},
                "columnKind": "unicodeCodePoints",
                # environment notices (no torch) are about the run, not a result in a file
                "invocations": [{
                    "executionSuccessful": True,
                    "toolExecutionNotifications": [
                        {"level": "note", "message": {"text": notice}} for notice in result.notices
                    ],
                }],
                "results": results,
            }
        ],
    }


def render_sarif(result: RunResult, settings: Settings, stream: TextIO) -> None:
    json.dump(to_sarif(result, settings), stream, indent=2)
    stream.write("\n")
