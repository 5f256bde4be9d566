"""Each model file in a child forked from the worker once torch is imported (Linux).

What one file's code does to the process (monkeypatching torch, closing stdout,
``sys.setrecursionlimit``, leaked memory, a crash) cannot reach another file's models,
and a crash costs no second torch import. The child tells its parent, over a private
pipe, which model it is running (the candidate's index), ``imported`` once the file's
import ended and ``done`` after each model; from that the parent pins a crash on the
model it happened in and gives the models after it a fresh child. A crash before the
import ended would repeat for every model, so all of them get it.
"""

from __future__ import annotations

import os
import select
import sys
from typing import Any, Callable


def can_fork() -> bool:
    # Linux only: fork after importing torch is safe there (no thread pool has started,
    # CUDA is never touched in the parent); macOS frameworks are not fork-safe.
    return hasattr(os, "fork") and sys.platform.startswith("linux") and os.environ.get("GRADLINT_NO_FORK") != "1"


def run_file_forked(candidates: list[dict[str, Any]], in_child: Callable[[list[dict[str, Any]], int], None],
                    crashed: Callable[[int, int], None]) -> None:
    """``in_child(left, progress_fd)`` in a forked child until every candidate ran or
    crashed; ``crashed(index, returncode)`` for each model a child died in."""
    left = list(candidates)
    while left:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            code = 0
            try:
                os.close(read_end)
                in_child(left, write_end)
            except BaseException:  # noqa: BLE001 - never return into the parent's loop
                code = 70
            finally:
                os._exit(code)
        os.close(write_end)
        lines, status = _wait_for_child(pid, read_end)
        if "imported" not in lines:  # the import itself crashed: it would for every model
            for candidate in left:
                crashed(candidate["index"], os.waitstatus_to_exitcode(status))
            return
        position, running = 0, None  # models of `left` the child finished; the one it died in
        for line in lines:
            if line == "done":
                position, running = position + 1, None
            elif line != "imported":
                running = int(line)
        if running is None and position < len(left):
            running = left[position]["index"]  # died before naming it: still make progress
        if running is not None:
            crashed(running, os.waitstatus_to_exitcode(status))
            position += 1
        left = left[position:]


def _wait_for_child(pid: int, progress: int) -> tuple[list[str], int]:
    """The child's progress lines and its exit status. Reads while waiting (a full pipe
    would block the child) and never waits for EOF: a process the model code forked may
    hold the pipe open long after the child is gone."""
    data = b""
    try:
        while True:
            readable, _, _ = select.select([progress], [], [], 0.05)
            if readable:
                chunk = os.read(progress, 65536)
                data += chunk
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                while select.select([progress], [], [], 0)[0]:
                    chunk = os.read(progress, 65536)
                    if not chunk:
                        break
                    data += chunk
                return data.decode().split(), status
            if readable and not chunk:  # EOF but not reaped yet
                _, status = os.waitpid(pid, 0)
                return data.decode().split(), status
    finally:
        os.close(progress)

