"""Text edits at exact ``ast`` positions, for the rules' fixes.

A statement is edited only when it stands alone on its lines (nothing but
indentation before it, nothing but a comment after it): that is what makes a fix's
shape unambiguous. Inserted lines take the indentation of the statement they sit
beside; a moved statement keeps its own lines, comments included.
"""

from __future__ import annotations

import ast
import re
from typing import Optional

from gradlint.findings import Edit, Fix
from gradlint.source.names import Names
from gradlint.source.nodes import Located
from gradlint.source.unit import SourceUnit

_TRAILER = re.compile(r"\s*(#.*)?$")


def standalone(unit: SourceUnit, stmt: Optional[ast.AST]) -> bool:
    """Whether ``stmt`` is a statement alone on its own lines."""
    if not isinstance(stmt, ast.stmt) or stmt.end_lineno is None:
        return False
    span = unit.span(stmt)
    first, last = unit.line_text(span.line), unit.line_text(span.end_line)
    return not first[: span.column - 1].strip() and bool(_TRAILER.fullmatch(last[span.end_column - 1 :]))


def indent_of(unit: SourceUnit, stmt: Located) -> str:
    line = unit.line_text(stmt.lineno)
    return line[: len(line) - len(line.lstrip())]


def insert_before(unit: SourceUnit, stmt: ast.stmt, lines: list[str]) -> Edit:
    indent = indent_of(unit, stmt)
    text = "".join(f"{indent}{line}\n" for line in lines)
    return Edit(stmt.lineno, 1, stmt.lineno, 1, text)


def insert_after(unit: SourceUnit, stmt: ast.stmt, lines: list[str]) -> Edit:
    indent = indent_of(unit, stmt)
    end = stmt.end_lineno or stmt.lineno
    column = len(unit.line_text(end)) + 1
    return Edit(end, column, end, column, "".join(f"\n{indent}{line}" for line in lines))


def move_before(unit: SourceUnit, moved: ast.stmt, anchor: ast.stmt) -> Optional[tuple[Edit, Edit]]:
    """Delete ``moved``'s lines and insert them, re-indented, before ``anchor``."""
    first, last = moved.lineno, moved.end_lineno or moved.lineno
    if first <= anchor.lineno <= last:
        return None
    old_indent, new_indent = indent_of(unit, moved), indent_of(unit, anchor)
    body = unit.lines[first - 1 : last]
    if any(line.strip() and not line.startswith(old_indent) for line in body):
        return None  # a continuation line indented less than the statement: leave it
    text = "".join(f"{new_indent}{line[len(old_indent):]}\n" if line.strip() else "\n" for line in body)
    if last < len(unit.lines):
        delete = Edit(first, 1, last + 1, 1, "")
    elif first > 1:
        delete = Edit(first - 1, len(unit.line_text(first - 1)) + 1, last, len(unit.line_text(last)) + 1, "")
    else:
        return None
    return delete, Edit(anchor.lineno, 1, anchor.lineno, 1, text)


def move_after(unit: SourceUnit, moved: ast.stmt, anchor: ast.stmt) -> Optional[tuple[Edit, Edit]]:
    """Delete ``moved``'s lines and insert them, re-indented, after ``anchor``'s last line."""
    first, last = moved.lineno, moved.end_lineno or moved.lineno
    end = anchor.end_lineno or anchor.lineno
    if first <= end and anchor.lineno <= last:
        return None
    old_indent, new_indent = indent_of(unit, moved), indent_of(unit, anchor)
    body = unit.lines[first - 1 : last]
    if any(line.strip() and not line.startswith(old_indent) for line in body) or last >= len(unit.lines):
        return None
    text = "".join(f"\n{new_indent}{line[len(old_indent):]}" if line.strip() else "\n" for line in body)
    column = len(unit.line_text(end)) + 1
    return Edit(first, 1, last + 1, 1, ""), Edit(end, column, end, column, text)


def delete(unit: SourceUnit, stmt: ast.stmt) -> Optional[Edit]:
    """Delete ``stmt``'s whole lines."""
    first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
    if last < len(unit.lines):
        return Edit(first, 1, last + 1, 1, "")
    if first > 1:
        return Edit(first - 1, len(unit.line_text(first - 1)) + 1, last, len(unit.line_text(last)) + 1, "")
    return None


def replace(unit: SourceUnit, node: Located, text: str) -> Edit:
    span = unit.span(node)
    return Edit(span.line, span.column, span.end_line, span.end_column, text)


def source(unit: SourceUnit, node: ast.AST) -> str:
    return ast.get_source_segment(unit.text, node) or ""


def is_simple(node: Optional[ast.AST]) -> bool:
    """A name, an attribute chain or a literal: safe to repeat at another place."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, (ast.Name, ast.Constant))


def clip_function(names: Names) -> Optional[str]:
    """How this file can spell ``torch.nn.utils.clip_grad_norm_`` with its own imports."""
    by_target: dict[str, str] = {}
    for local, full in names.aliases.items():
        by_target.setdefault(full, local)
    for target, suffix in (
        ("torch", ".nn.utils.clip_grad_norm_"),
        ("torch.nn", ".utils.clip_grad_norm_"),
        ("torch.nn.utils", ".clip_grad_norm_"),
        ("torch.nn.utils.clip_grad_norm_", ""),
    ):
        if target in by_target:
            return by_target[target] + suffix
    return None


def make_fix(message: str, *edits: Optional[Edit], unsafe: bool = False) -> Optional[Fix]:
    if not edits or any(edit is None for edit in edits):
        return None
    return Fix(message, tuple(edits), unsafe)  # type: ignore[arg-type]
