"""SourceUnit: one user file, read and parsed once, shared by every source rule.

Detection runs on Python's own ``ast`` (about 0.2x the cost of a libcst parse, and
it carries exact start and end positions). Fixes are text edits at those positions, so
everything outside an edit keeps the user's formatting. See README, "Performance".
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from gradlint.findings import Span
from gradlint.source.index import decode_source, file_stamp, parse_source, short_error
from gradlint.source.nodes import Located
from gradlint.source.tree_paths import remember


def newer_syntax_hint(exc: SyntaxError, text: str) -> str:
    """A note when the error may be an f-string that Python 3.12 accepts (PEP 701: quotes,
    backslashes and line breaks inside the braces) and gradlint runs on an older Python."""
    if sys.version_info >= (3, 12):
        return ""
    lines = text.splitlines()
    line = lines[exc.lineno - 1] if exc.lineno and 0 < exc.lineno <= len(lines) else ""
    if "f-string" in (exc.msg or "") or ((exc.msg or "").startswith("unterminated string literal")
                                          and re.search(r"\b[fF][rR]?['\"]", line)):
        return (f" (Python 3.12 accepts this f-string; gradlint parses with the Python it runs on, "
                f"{sys.version_info.major}.{sys.version_info.minor}: run it with Python 3.12 or newer)")
    return ""


_MAX_SKIPPED = 20
# ``x.cuda(async=True)``: PyTorch before 0.4 named ``non_blocking`` ``async``, a keyword since Python 3.7
_ASYNC_ARGUMENT = re.compile(r"(?<=[(,\s])async(?=\s*=[^=])")
ASYNC_HINT = (" (`async` is a keyword since Python 3.7: PyTorch's `.cuda(async=True)` is `.cuda(non_blocking=True)`; "
              "the rest of the file was checked reading it so)")


def _with_async_arguments_renamed(text: str, path: str, error: SyntaxError) -> Optional[ast.Module]:
    """The tree of ``text`` with each ``async=`` keyword argument read as ``async_=`` (lines and
    columns kept but for one character), when the error is on such a line; None otherwise."""
    lines = text.split("\n")
    at = (error.lineno or 0) - 1
    if not 0 <= at < len(lines) or not _ASYNC_ARGUMENT.search(lines[at]):
        return None
    try:
        return parse_source(_ASYNC_ARGUMENT.sub("async_", text), path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _without_newer_fstrings(text: str, path: str, first: SyntaxError) -> Optional[tuple[ast.Module, int]]:
    """The tree of ``text`` with each line holding an f-string only Python 3.12 reads (PEP 701)
    made ``pass`` (line numbers kept), and how many; None when the file still does not parse
    (such an f-string inside a statement of several lines, or another error)."""
    return _without_lines(text, path, first, lambda error, lines: bool(newer_syntax_hint(error, "\n".join(lines))))


# a shell command pasted into a script without IPython's ``!`` (Colab's "pip install ..." cell
# saved as .py): it cannot run, but the code after it can be read
_SHELL_LINE = re.compile(r"^[ \t]*(?:pip3?|conda|apt(?:-get)?|sudo|git|wget|curl|unzip|nvidia-smi)(?:[ \t]+\S.*)?$")
SHELL_HINT = (" (a shell command pasted into Python: run it in a shell, or as `!{command}` in a notebook; "
              "the rest of the file was checked without {lines})")


def _shell_line(error: SyntaxError, lines: list[str]) -> bool:
    at = (error.lineno or 0) - 1
    return 0 <= at < len(lines) and bool(_SHELL_LINE.match(lines[at]))


def _without_shell_lines(text: str, path: str, first: SyntaxError) -> Optional[tuple[ast.Module, int]]:
    """The tree of ``text`` with each shell command line (``pip install torch``) made ``pass``,
    and how many; None when the error is not on such a line or the file still does not parse."""
    return _without_lines(text, path, first, _shell_line)


# a Python 2 print statement (``print loss.data[0]``): code of PyTorch's first years, readable but for it
PRINT_HINT = (" (a Python 2 print statement: Python 3 needs `print(...)`; "
              "the rest of the file was checked without {lines})")


def _print_statement(error: SyntaxError, lines: list[str]) -> bool:
    at = (error.lineno or 0) - 1
    return ("Missing parentheses in call to 'print'" in (error.msg or "") and 0 <= at < len(lines)
            and lines[at].lstrip().startswith("print"))


def _without_print_statements(text: str, path: str, first: SyntaxError) -> Optional[tuple[ast.Module, int]]:
    """The tree of ``text`` with each one-line Python 2 print statement made ``pass``, and how
    many; None when the error is not on one or the file still does not parse."""
    return _without_lines(text, path, first, _print_statement)


def _skipped(count: int) -> str:
    return "this line" if count == 1 else f"this and {count - 1} more such lines"


def _without_lines(text: str, path: str, first: SyntaxError,
                   skippable: Callable[[SyntaxError, list[str]], bool]) -> Optional[tuple[ast.Module, int]]:
    """The tree of ``text`` with each line a syntax error stops at made ``pass`` (line numbers
    kept) while ``skippable`` says so, and how many lines; None when the file still does not parse."""
    lines = text.split("\n")
    error: SyntaxError = first
    for count in range(1, _MAX_SKIPPED + 1):
        at = (error.lineno or 0) - 1
        if not 0 <= at < len(lines) or not skippable(error, lines):
            return None
        line = lines[at]
        lines[at] = line[:len(line) - len(line.lstrip())] + "pass"
        try:
            return parse_source("\n".join(lines), path), count
        except SyntaxError as exc:
            if exc.lineno == error.lineno:
                return None
            error = exc
        except (ValueError, RecursionError, MemoryError):
            return None
    return None


@dataclass
class SyntaxProblem:
    message: str
    line: int
    column: int


@dataclass
class SourceUnit:
    """A user file: its path as shown to the user, its text and its parsed tree."""

    path: str
    text: str
    encoding: str = "utf-8"
    tree: Optional[ast.Module] = None
    syntax_error: Optional[SyntaxProblem] = None
    _lines: Optional[list[str]] = field(default=None, repr=False)

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> "SourceUnit":
        text, encoding, problem = decode_source(data)  # the same decoding as every other reader
        unit = cls(path, text, encoding)
        if problem is not None:
            unit.syntax_error = SyntaxProblem(problem.message, problem.line, 1)
            return unit
        unit.parse()
        return unit

    @classmethod
    def from_path(cls, path: Path, shown_as: str) -> "SourceUnit":
        return cls.from_bytes(shown_as, path.read_bytes())

    @classmethod
    def read_parsed(cls, path: str) -> Optional["SourceUnit"]:
        """A project module read to learn from (never imported): None when it cannot be read
        or parsed. Parsed once per change of the file, whichever rule asks (GL215's endings
        and helpers and GL406's links read the same modules)."""
        return _read_parsed(path, file_stamp(Path(path)))

    def parse(self) -> None:
        try:
            self.tree = parse_source(self.text, self.path)
        except SyntaxError as exc:
            hint = newer_syntax_hint(exc, self.text)
            skipped = _without_newer_fstrings(self.text, self.path, exc) if hint else None
            if skipped is not None:  # read the rest of the file; say which lines were not
                self.tree, count = skipped
                hint = hint[:-1] + f"; the rest of the file was checked without {_skipped(count)})"
            elif not hint and (renamed := _with_async_arguments_renamed(self.text, self.path, exc)) is not None:
                self.tree, hint = renamed, ASYNC_HINT  # code of PyTorch 0.3: read it, and say how to fix it
            elif not hint and (shell := _without_shell_lines(self.text, self.path, exc)) is not None:
                self.tree, count = shell
                command = " ".join(self.text.split("\n")[(exc.lineno or 1) - 1].split()[:2])
                hint = SHELL_HINT.format(command=command, lines=_skipped(count))
            elif not hint and (printed := _without_print_statements(self.text, self.path, exc)) is not None:
                self.tree, count = printed
                hint = PRINT_HINT.format(lines=_skipped(count))
            self.syntax_error = SyntaxProblem(
                f"{type(exc).__name__}: {exc.msg}{hint}", exc.lineno or 1, max(exc.offset or 1, 1)
            )
        except (ValueError, RecursionError, MemoryError) as exc:
            # null bytes, or nesting deeper than the parser's stack
            self.syntax_error = SyntaxProblem(f"cannot parse the file: {short_error(exc)}", 1, 1)
        if self.tree is not None:
            remember(self.tree, self.path)  # (a configuration it loads is read beside it)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = source_lines(self.text)
        return self._lines

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""

    def _char_col(self, line: int, byte_col: int) -> int:
        # ast columns count UTF-8 bytes; users and editors count characters
        text = self.line_text(line)
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    def span(self, node: Located, end: Optional[Located] = None) -> Span:
        """The span of ``node`` (through ``end`` when given), 1-based, exclusive end."""
        last = end or node
        return Span(
            node.lineno,
            self._char_col(node.lineno, node.col_offset) + 1,
            last.end_lineno or node.lineno,
            self._char_col(last.end_lineno or node.lineno, last.end_col_offset or 0) + 1,
        )

    def header_span(self, node: Located) -> Span:
        """The first line of a compound statement: ``for x in y``, ``def f(...)``."""
        if isinstance(node, (ast.For, ast.AsyncFor)):
            return self.span(node, node.iter)
        if isinstance(node, ast.While):
            return self.span(node, node.test)
        line = node.lineno
        text = self.line_text(line)
        start = self._char_col(line, node.col_offset)
        return Span(line, start + 1, line, len(text.rstrip()) + 1)


LINE_BREAK = re.compile(r"\r\n|\r|\n")


_SPACED_CALL = re.compile(r"(?<=[\w\])])[ \t]+\(")


def call_spelling(text: str) -> str:
    """``text`` with no space between a callee and its parenthesis (``GlobalEncoder (n)`` is
    ``GlobalEncoder(n)``), for the quick ``"name(" in text`` looks that decide what to read;
    never parsed, nor used for a position."""
    return _SPACED_CALL.sub("(", text) if " (" in text or "\t(" in text else text


def source_lines(text: str) -> list[str]:
    """``text`` split into lines the way Python's parser counts them.

    ``str.splitlines`` also breaks at form feeds, ``\\x1c``-``\\x1e``, ``\\x85`` and
    ``\\u2028``, which may sit inside a string or a comment; that would shift every
    line after them against the parser's line numbers.
    """
    lines = LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


@functools.lru_cache(maxsize=256)
def _read_parsed(path: str, stamp: tuple[int, int]) -> Optional[SourceUnit]:
    try:
        unit = SourceUnit.from_path(Path(path), path)
    except OSError:
        return None
    return unit if unit.tree is not None else None
