"""The command lines a project documents for running a script: ``python resnet_classifier.py
-n 10 -to`` in its README, a shell script or a notebook cell.

An ``action="store_true"`` option is off by default, but a project whose README runs the
script with it (``--tune_fc_only``) trains in that mode: GL406 reads a freezing flag as on
where a documented run passes it. Only the option strings are read (which options a run
passes, not their values), from the text of README files, ``*.sh`` scripts, Makefiles and
notebooks beside the script and up to two folders above it."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from gradlint.source.index import file_stamp, read_text

_DOCUMENTS = ("README*", "*.sh", "Makefile", "*.ipynb", "*.md")
_SUBFOLDERS = ("", "scripts")
_MOST_DOCUMENTS = 60
_MOST_BYTES = 2_000_000
_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
# where one command of a line ends: a shell separator, a quote
_COMMAND_END = re.compile(r"[;|&`\"]")


def documented_options(script: Path) -> frozenset[str]:
    """Every option string (``-to``, ``--tune_fc_only``) a documented run of ``script`` passes."""
    folders = [script.parent, script.parent.parent, script.parent.parent.parent]
    documents = sorted({found for folder in folders for sub in _SUBFOLDERS for pattern in _DOCUMENTS
                        for found in (folder / sub).glob(pattern) if found.is_file()})
    if len(documents) > _MOST_DOCUMENTS:
        return frozenset()
    found: set[str] = set()
    for document in documents:
        found |= _options_in(str(document), file_stamp(document), script.name, script.parent.name)
    return frozenset(found)


@lru_cache(maxsize=512)
def _options_in(document: str, stamp: tuple[int, int], name: str, folder: str) -> frozenset[str]:
    """The options every command line of ``document`` running ``name`` passes (the stamp
    keys the cache: the editor's server lives across edits)."""
    if stamp[1] > _MOST_BYTES:
        return frozenset()
    text = read_text(Path(document))
    if document.endswith(".ipynb"):
        text = _cells(text)
    text = text.replace("\\\n", " ")  # a command continued over lines
    wanted = re.compile(rf"(?<![\w.-])([\w./-]*?){re.escape(name)}(?![\w.])")
    found: set[str] = set()
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue  # a commented-out run
        for match in wanted.finditer(line):
            if match[1] and not match[1].rstrip("/").endswith(folder):
                continue  # ``python stage2/train.py``: another folder's script of that name
            rest = line[match.end():]
            command = _COMMAND_END.split(rest, maxsplit=1)[0]
            found.update(_OPTION.findall(command))
    return frozenset(found)


def _cells(text: str) -> str:
    """A notebook's code cells as one text (``!python train.py \\`` continued in the next line)."""
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError):
        return ""
    sources = [cell.get("source", "") for cell in cells if isinstance(cell, dict) and cell.get("cell_type") == "code"]
    return "\n".join("".join(source) if isinstance(source, list) else str(source) for source in sources)
