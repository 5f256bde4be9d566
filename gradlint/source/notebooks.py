"""Jupyter notebooks read as the script their code cells make, one cell after another (how
Jupyter runs them, top to bottom), with each line of that script placed back in the
``.ipynb`` file: at the line of the file holding it (the JSON as nbformat writes it, one
source line a line, which is what a CI annotation or a diff shows) and at its cell and line
in the cell (what the user sees in Jupyter). Each cell is read as IPython hands it to Python
(magics, shell escapes and automagic commands as ``pass``) and parsed on its own, as Jupyter
compiles it: a cell that does not parse is left out and reported, the others are read."""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from dataclasses import dataclass, replace
from typing import Any, Optional

from gradlint.findings import Finding, Related

NOTEBOOK_SUFFIX = ".ipynb"
_AUTOMAGIC = re.compile(r"(pip|pip3|conda|apt|apt-get)\s+(install|uninstall|update)\b")
_LINE = re.compile(r"\b(on )?line (\d+)\b")


class NotebookError(ValueError):
    """The file is not a notebook gradlint can read (not JSON, or no cells)."""


@dataclass(frozen=True)
class NotebookScript:
    """The code cells as one script; ``places[i]`` is where line ``i + 1`` of it sits:
    (line of the ``.ipynb`` file, cell number from 1, line in the cell from 1)."""

    text: str
    places: tuple[tuple[int, int, int], ...]
    # cells Python cannot read, each compiled on its own as Jupyter does, left out of ``text``
    # (commented out): (line of the script, column, the syntax error)
    broken: tuple[tuple[int, int, str], ...] = ()

    def place(self, line: int) -> tuple[int, int, int]:
        if not self.places:
            return (1, 1, 1)
        return self.places[min(max(line, 1), len(self.places)) - 1]

    def placed(self, finding: Finding) -> Finding:
        """A finding on the script moved to the notebook: lines of the ``.ipynb`` file, the
        cell named in the message, and no fix (edits of the script are not edits of the
        JSON file; ``--fix`` leaves notebooks alone)."""
        file_line, cell, cell_line = self.place(finding.line)
        end_line = self.place(finding.end_line)[0] if finding.end_line else 0
        if end_line < file_line:
            end_line = file_line  # (a span crossing cells ends in its first)
        # (the lines a message names, ``model.train()`` on line 103, are the script's: told as cells)
        told = _LINE.sub(lambda m: ("in " if m.group(1) else "") + "cell {}, line {}".format(*self.place(int(m.group(2)))[1:]),
                         finding.message)
        return replace(finding, line=file_line, end_line=end_line, fix=None,
                       message=f"{told} (cell {cell}, line {cell_line})",
                       related=tuple(r if r.path else Related(self.place(r.line)[0], r.message)
                                     for r in finding.related))


def notebook_script(data: bytes) -> NotebookScript:
    """The script of a notebook's code cells; NotebookError when ``data`` is not one."""
    try:
        notebook = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise NotebookError(f"not a Jupyter notebook (invalid JSON: {exc})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if isinstance(notebook, dict) and cells is None and isinstance(notebook.get("worksheets"), list):
        # nbformat 3 (IPython 1-2): cells in worksheets, a code cell's source under "input"
        cells = [cell for sheet in notebook["worksheets"] if isinstance(sheet, dict)
                 for cell in (sheet.get("cells") or []) if isinstance(cell, dict)]
    if not isinstance(cells, list):
        raise NotebookError("not a Jupyter notebook (no list of cells)")
    raw_lines = data.decode("utf-8-sig").splitlines()
    cursor = 0  # the file's lines are read in order, as the cells come
    lines: list[str] = []
    places: list[tuple[int, int, int]] = []
    broken: list[tuple[int, int, str]] = []
    for number, cell in enumerate(cells, start=1):
        # nbformat writes a cell's keys sorted: its outputs come before its source (a markdown
        # cell's source is passed over the same way)
        key = '"input"' if isinstance(cell, dict) and "input" in cell else '"source"'  # (nbformat 3's code cells)
        start = next((i for i in range(cursor, len(raw_lines)) if raw_lines[i].lstrip().startswith(key)), None)
        cursor = start if start is not None else cursor
        source = _source_lines(cell)
        if source is None:
            if start is not None:
                cursor += 1
            continue
        cell_lines = _python_cell(source)
        try:
            ast.parse("\n".join(cell_lines))
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            line_of = len(lines) + max(getattr(exc, "lineno", None) or 1, 1)
            message = f"{type(exc).__name__}: {exc.msg}" if isinstance(exc, SyntaxError) else f"cannot parse the cell: {exc}"
            broken.append((line_of, max(getattr(exc, "offset", None) or 1, 1), message))
            cell_lines = ["# " + line for line in cell_lines]
        for in_cell, (line, python) in enumerate(zip(source, cell_lines), start=1):
            found = _file_line(raw_lines, line, cursor + 1, cursor + 2) if start is not None else None
            if found is not None:
                cursor = found  # (else: not one line a line, the lines sit at the cell's source)
            lines.append(python)
            places.append((cursor + 1, number, in_cell))
        lines.append("")  # a blank line between cells keeps their statements apart
        places.append((cursor + 1, number, len(source) + 1))
        if start is not None:
            cursor = max(cursor, start + 1)  # (a source written as one string sits on its own line)
    return NotebookScript("\n".join(lines) + "\n", tuple(places), tuple(broken))


# ``%time train(model, loader)``: a line magic that runs the statement after it (options, ``-n 10``, aside)
_TIMED = re.compile(r"%(?:time|timeit|prun)\s+(?!-)(\S.*)$")


def _python_cell(source: list[str]) -> list[str]:
    """A cell's lines as IPython hands them to Python: a cell magic's cell that is not Python
    (``%%bash``, ``%%writefile``) commented out; magics, shell escapes and automagic commands
    (``!wget ...``, ``%matplotlib inline``, ``pip install timm``) read as ``pass`` in place, the
    statement a ``%time`` line magic times read as written, and
    the lines they continue with a backslash as blank; the indentation of a cell's first line
    taken off all of them (IPython's ``leading_indent``)."""
    lines = [line.rstrip("\r\n") for line in source]
    magic = lines[0].lstrip() if lines else ""
    if magic.startswith("%%") and magic[2:].split(maxsplit=1)[:1] not in (["time"], ["timeit"], ["capture"]):
        return ["# " + line for line in lines]
    first = next((line for line in lines if line.strip()), "")
    indent = first[:len(first) - len(first.lstrip())]
    if indent:
        lines = [line[len(indent):] if line.startswith(indent) else line for line in lines]
    python, continued = [], False
    for line in lines:
        stripped = line.lstrip()
        if continued:
            python.append("")
        elif (timed := _TIMED.match(stripped)) and not _inside_statement(python):
            python.append(line[:len(line) - len(stripped)] + timed.group(1))  # (its statement runs, timed)
        elif (stripped.startswith(("!", "%")) or _AUTOMAGIC.match(stripped)) and not _inside_statement(python):
            python.append(line[:len(line) - len(stripped)] + "pass")
        else:  # (``%`` opening a statement's next line is the modulo operator, not a magic)
            python.append(line)
            continue
        continued = line.endswith("\\")
    return python


def _inside_statement(python: list[str]) -> bool:
    """The Python read so far ends inside a statement: an open bracket or triple-quoted
    string, or a backslash (Python's tokenizer stops there, asking for more)."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO("\n".join(python) + "\n").readline):
            pass
    except tokenize.TokenError:
        return True
    except SyntaxError:  # (a dedent to no open level: the parse reports it)
        return False
    return False


def _source_lines(cell: Any) -> Optional[list[str]]:
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return None
    source = cell.get("source", cell.get("input", ""))
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    if not isinstance(source, str):
        return None
    return source.splitlines(keepends=True) or [""]


def _file_line(raw_lines: list[str], line: str, start: int, stop: int) -> Optional[int]:
    """The index of the line of the file in ``[start, stop)`` holding ``line`` as a JSON
    string (``"x = 1\\n",``); None where the notebook is not written one line a line."""
    for index in range(start, min(stop, len(raw_lines))):
        text = raw_lines[index].strip()
        if not text.startswith('"'):
            continue
        try:
            value = json.loads(text.rstrip(","))
        except ValueError:
            continue
        if value == line:
            return index
    return None
