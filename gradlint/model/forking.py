"""Each model file in a child forked from the worker once torch is imported (Linux).

What one file's code does to the process (monkeypatching torch, closing stdout,
``sys.setrecursionlimit``, leaked memory, a crash) cannot reach another file's models,
and a crash costs no second torch import. The child tells its parent, over a private
pipe, ``imported`` once the file's import ended, then ``start <index>`` and ``done
<index>`` per model (one short line each, atomic on a pipe, in any order when the child
spreads the file's models over grandchildren, see ``splitting``); from that the parent
pins a crash on the model it happened in and gives the models left a fresh child. A
crash before the import ended would repeat for every model, so all of them get it.
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
        started, finished = [], set()  # models the child (or its grandchildren) began, ended
        for line in lines:
            kind, _, value = line.partition(" ")
            if kind == "start":
                started.append(int(value))
            elif kind == "done":
                finished.add(int(value))
        # the models it died in: one when it ran them in turn; every one running when a
        # child that split the file over grandchildren (see splitting) was killed itself
        dead_in = list(dict.fromkeys(i for i in started if i not in finished))
        if not dead_in:
            dead_in = [c["index"] for c in left if c["index"] not in finished][:1]  # died before naming it: still make progress
        for index in dead_in:
            crashed(index, os.waitstatus_to_exitcode(status))
        left = [c for c in left if c["index"] not in finished and c["index"] not in dead_in]


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
                return data.decode().splitlines(), status
            if readable and not chunk:  # EOF but not reaped yet
                _, status = os.waitpid(pid, 0)
                return data.decode().splitlines(), status
    finally:
        os.close(progress)

