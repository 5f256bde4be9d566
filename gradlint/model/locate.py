"""Where in the user's own code a layer was created or an operation called (worker side).

Layers inside ``nn.Sequential`` carry only torch's frames in a trace, so every module
records at construction the innermost frame of the user's project that created it
(the ``nn.Linear(...)`` entry of the Sequential, or ``self.fc = nn.Linear(...)``).
Frames of the module's own constructors (``super().__init__()`` chains) are skipped.
"""

from __future__ import annotations

import linecache
import os
import re
import sys
import sysconfig
from types import FrameType
from typing import Any, Callable, Optional

from gradlint.findings import Span

ATTRIBUTE = "_gradlint_created"  # kept in the module's __dict__: deepcopy carries it to clones
_STACK_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>\S+)')

# a place is a gradlint.findings.Span whose path is the real file (the main process shows it)


class UserFiles:
    """Decides whether a file belongs to the user's project (never torch, site-packages,
    the standard library or gradlint itself)."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = [os.path.join(os.path.realpath(r), "") for r in roots if r]
        excluded = {sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
        excluded.add(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))  # gradlint/
        self.excluded = [os.path.join(os.path.realpath(p), "") for p in excluded if p]
        self._cache: dict[str, bool] = {}

    def __call__(self, filename: str) -> bool:
        known = self._cache.get(filename)
        if known is None:
            real = os.path.realpath(filename) if filename and not filename.startswith("<") else ""
            known = bool(real) and any(real.startswith(r) for r in self.roots) and not any(
                real.startswith(e) for e in self.excluded
            ) and "site-packages" not in real and "dist-packages" not in real
            self._cache[filename] = known
        return known


_positions_cache: dict[Any, list] = {}
_real_paths: dict[str, str] = {}  # absolute file name -> its real path


def _real_path(filename: str) -> str:
    # a symlink walk per traced node and per created module was 14% of a meta model's
    # analysis (bench/realmodel_cost.py); a relative name depends on the working directory
    real = _real_paths.get(filename)
    if real is None:
        real = os.path.realpath(filename)
        if os.path.isabs(filename):
            _real_paths[filename] = real
    return real


def frame_location(frame: Any) -> Span:
    """The span of the call the frame is executing (Python 3.11+), else its line."""
    code = frame.f_code
    filename = _real_path(code.co_filename)
    if hasattr(code, "co_positions"):
        positions = _positions_cache.get(code)
        if positions is None:
            positions = _positions_cache[code] = list(code.co_positions())
        index = frame.f_lasti // 2
        if 0 <= index < len(positions):
            line, end_line, column, end_column = positions[index]
            if line and column is not None:
                return Span(line, char_column(filename, line, column) + 1,
                            end_line or line, char_column(filename, end_line or line, end_column or column) + 1, filename)
    return line_location(filename, frame.f_lineno)


def line_location(filename: str, line: int, needle: Optional[str] = None) -> Span:
    """A whole line (from its first non-blank character), or the first ``needle`` in it."""
    text = linecache.getline(filename, line).rstrip("\n")
    start = len(text) - len(text.lstrip())
    if needle:
        match = re.search(needle, text)
        if match:
            return Span(line, match.start() + 1, line, match.end() + 1, filename)
    return Span(line, start + 1, line, max(len(text.rstrip()), start) + 1, filename)


def char_column(filename: str, line: int, byte_column: int) -> int:
    text = linecache.getline(filename, line)
    if text.isascii():
        return byte_column
    return len(text.encode("utf-8")[:byte_column].decode("utf-8", errors="ignore"))


def install_creation_hook(is_user: UserFiles) -> Callable[[], None]:
    """Record on every nn.Module where the user's code created it; returns an undo."""
    import torch.nn as nn

    original = nn.Module.__init__

    def recording_init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if ATTRIBUTE in self.__dict__:
            return
        frame: Optional[FrameType] = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_name in ("__init__", "__new__") and frame.f_locals.get("self") is self:
                frame = frame.f_back  # the module's own constructor chain
                continue
            if is_user(frame.f_code.co_filename):
                object.__setattr__(self, ATTRIBUTE, frame_location(frame))
                return
            frame = frame.f_back

    nn.Module.__init__ = recording_init  # type: ignore[method-assign]

    def undo() -> None:
        nn.Module.__init__ = original  # type: ignore[method-assign]

    return undo


def created_at(module: Any) -> Optional[Span]:
    return module.__dict__.get(ATTRIBUTE)


def stack_location(stack_trace: Optional[str], is_user: UserFiles, needle: Optional[str] = None) -> Optional[Span]:
    """The innermost user frame of an fx node's recorded stack trace."""
    if not stack_trace:
        return None
    found = None
    for match in _STACK_FRAME.finditer(stack_trace):
        if is_user(match.group("file")):
            found = match
    if found is None:
        return None
    return line_location(os.path.realpath(found.group("file")), int(found.group("line")), needle)
