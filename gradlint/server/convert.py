"""From gradlint's findings to LSP objects: diagnostics, fix and noqa edits, hovers.

gradlint counts 1-based lines and columns in characters (code points) with an
exclusive end; LSP counts 0-based lines and, by default, UTF-16 units. pygls's
position codec of the document does the unit conversion.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional, Sequence

from lsprotocol import types
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from gradlint.findings import Finding
from gradlint.registry import get_rule

SOURCE = "gradlint"
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}
_NOQA_WITH_CODES = re.compile(r"#\s*noqa:\s*[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*", re.I)
_BARE_NOQA = re.compile(r"#\s*noqa(?!:)", re.I)


def to_range(document: TextDocument, line: int, column: int, end_line: int, end_column: int) -> types.Range:
    """1-based, exclusive-end character positions -> an LSP range in the client's units."""
    lines = document.lines
    last = max(len(lines) - 1, 0)

    def position(row: int, col: int) -> ServerTextPosition:
        row = min(max(row - 1, 0), last)
        text = lines[row].rstrip("\r\n") if lines else ""
        return ServerTextPosition(row, min(max(col - 1, 0), len(text)))

    server_range = ServerTextRange(position(line, column), position(end_line, end_column))
    return document.range_to_client_units(server_range)


def evidence_text(finding: Finding) -> str:
    confirmation = finding.confirmation
    if confirmation is None or confirmation.status == "not-probed":
        return ""
    numbers = ", ".join(f"{key}={value}" for key, value in confirmation.evidence.items())
    return f"probe: {confirmation.status}" + (f" ({numbers})" if numbers else "")


def to_diagnostic(document: TextDocument, finding: Finding) -> types.Diagnostic:
    rule = get_rule(finding.code)
    message = finding.message
    evidence = evidence_text(finding)
    if evidence:
        message += f"\n{evidence}"
    data: dict[str, Any] = {"name": finding.name}
    if finding.fix is not None:
        data["fix"] = {
            "message": finding.fix.message,
            "edits": [edit.__dict__ for edit in finding.fix.edits],
        }
    if finding.confirmation is not None:
        data["confirmation"] = {"status": finding.confirmation.status, "evidence": finding.confirmation.evidence}
    return types.Diagnostic(
        range=to_range(document, finding.line, finding.column, finding.end_line, finding.end_column),
        message=message,
        severity=_SEVERITY[finding.severity.value],
        code=finding.code,
        code_description=types.CodeDescription(href=rule.url) if rule else None,
        source=SOURCE,
        data=data,
        related_information=related_information(document, finding) or None,
    )


def related_information(document: TextDocument, finding: Finding) -> list[types.DiagnosticRelatedInformation]:
    """The finding's other places, a whole line each: where a frozen module is put back in
    train mode, the freeze a helper of another module makes, the activation an output ends in."""
    found = []
    for related in finding.related:
        if related.path and Path(related.path).resolve() != Path(finding.path).resolve():
            # another file: its whole line (the editor opens it; no text here to count columns in)
            line = types.Range(start=types.Position(line=related.line - 1, character=0),
                               end=types.Position(line=related.line, character=0))
            location = types.Location(uri=Path(related.path).resolve().as_uri(), range=line)
        else:
            text = document.lines[related.line - 1] if 0 < related.line <= len(document.lines) else ""
            location = types.Location(uri=document.uri, range=to_range(document, related.line, 1, related.line,
                                                                       len(text.rstrip("\r\n")) + 1))
        found.append(types.DiagnosticRelatedInformation(location=location, message=related.message))
    return found


def fix_action(document: TextDocument, diagnostic: types.Diagnostic) -> Optional[types.CodeAction]:
    """The rule's own fix, when the finding carries one."""
    fix = (diagnostic.data or {}).get("fix") if isinstance(diagnostic.data, dict) else None
    if not fix:
        return None
    edits = [
        types.TextEdit(
            range=to_range(document, e["line"], e["column"], e["end_line"], e["end_column"]),
            new_text=e["content"],
        )
        for e in fix["edits"]
    ]
    return types.CodeAction(
        title=f"{diagnostic.code}: {fix['message']}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=True,
        edit=types.WorkspaceEdit(changes={document.uri: edits}),
    )


def noqa_edit(line_text: str, code: str) -> Optional[tuple[int, int, str]]:
    """(start, end, text) in characters that suppresses ``code`` on this line, or None
    when a comment on it already does."""
    text = line_text.rstrip("\r\n")
    existing = _NOQA_WITH_CODES.search(text)
    if existing:
        listed = {c.upper() for c in re.findall(r"[A-Z]+[0-9]+", existing.group(0)[existing.group(0).index(":"):], re.I)}
        if code.upper() in listed:
            return None
        return existing.end(), existing.end(), f", {code}"
    if _BARE_NOQA.search(text):
        return None
    content_end = len(text.rstrip())
    return content_end, len(text), f"  # noqa: {code}"


def noqa_action(document: TextDocument, diagnostic: types.Diagnostic) -> Optional[types.CodeAction]:
    server_start = document.range_from_client_units(diagnostic.range).start
    row = server_start.line
    lines = document.lines
    if row >= len(lines):
        return None
    edit = noqa_edit(lines[row], str(diagnostic.code))
    if edit is None:
        return None
    start, end, text = edit
    client_range = document.range_to_client_units(
        ServerTextRange(ServerTextPosition(row, start), ServerTextPosition(row, end))
    )
    return types.CodeAction(
        title=f"{diagnostic.code}: add # noqa: {diagnostic.code}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(changes={document.uri: [types.TextEdit(range=client_range, new_text=text)]}),
    )


def hover_text(findings: Sequence[Finding]) -> str:
    """Markdown: each finding's message and its rule's documentation."""
    parts = []
    for finding in findings:
        rule = get_rule(finding.code)
        part = f"**{finding.code}** ({finding.name}): {finding.message}"
        evidence = evidence_text(finding)
        if evidence:
            part += f"\n\n*{evidence}*"
        if rule is not None:
            part += f"\n\n{rule.doc}\n\n[{rule.code} documentation]({rule.url})"
        parts.append(part)
    return "\n\n---\n\n".join(parts)
