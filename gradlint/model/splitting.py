"""One model file's models over several processes once its import ended (Linux).

A model zoo's file (timm's resnet.py: 80 variants, ~0.5 s each after a 5 s import)
would keep one core busy while the others idle. When the run leaves spare processes
(``--jobs`` above the number of model files, see ``pool``), the file's child, after
importing the file, forks that many grandchildren, which share the imported module
copy-on-write, and hands each the next model when it is free (so a slow model does
not hold up a fixed share).

A grandchild talks to the child over its own pipe: ``start <index>``, the model's
events (JSON lines), ``done <index>``. The child forwards each complete event line to
the worker's result pipe (one writer: lines never interleave, and half a line from a
grandchild that died is dropped) and tells the worker ``start``/``done`` per model. A
grandchild that dies in a model (a segfault, ``os._exit``) costs that model only: it
is reported as crashed and a fresh grandchild takes the models left. Results are keyed
by model index, so the output does not depend on the split.
"""

from __future__ import annotations

import os
import select
from dataclasses import dataclass
from typing import Any, Callable, Optional


def write_line(fd: int, text: str) -> None:
    """One short line (under PIPE_BUF: atomic) on a pipe."""
    os.write(fd, (text + "\n").encode())


@dataclass
class _Grandchild:
    pid: int
    tasks: int  # the child writes the next model's index here
    events: int  # the grandchild's progress lines and events
    buffer: bytes = b""
    given: Optional[int] = None  # the model it was handed and has not finished
    closed: bool = False  # its events pipe reached EOF (it is exiting)


def run_split(candidates: list[dict[str, Any]], processes: int, run_one: Callable[[dict[str, Any], int], None],
              forward: Callable[[bytes], None], progress: int, crashed: Callable[[int, int], None]) -> None:
    """Every candidate in up to ``processes`` grandchildren. ``run_one(candidate,
    events_fd)`` analyses one model in a grandchild, writing its events and ``start``/
    ``done`` lines on ``events_fd``; ``forward(line)`` passes one event line on;
    ``crashed(index, exit_code)`` for a model whose grandchild died in it."""
    queue = list(candidates)
    by_index = {c["index"]: c for c in candidates}
    running: dict[int, _Grandchild] = {}

    def hand_out(grandchild: _Grandchild) -> None:
        if queue:
            index = queue[0]["index"]
            try:
                write_line(grandchild.tasks, str(index))
            except OSError:  # it is gone already: the model waits for the next one
                return
            grandchild.given = queue.pop(0)["index"]
        else:  # nothing left: end of tasks, it exits
            _close(grandchild.tasks)
            grandchild.tasks = -1

    def start_one() -> None:
        grandchild = _fork(by_index, run_one, [fd for g in running.values() for fd in (g.tasks, g.events)])
        running[grandchild.pid] = grandchild
        hand_out(grandchild)

    def take(grandchild: _Grandchild, chunk: bytes) -> None:
        *lines, grandchild.buffer = (grandchild.buffer + chunk).split(b"\n")
        for line in lines:
            kind, _, value = line.partition(b" ")
            if kind == b"start":
                write_line(progress, f"start {int(value)}")
            elif kind == b"done":
                write_line(progress, f"done {int(value)}")
                grandchild.given = None
                if grandchild.tasks >= 0:
                    hand_out(grandchild)
            elif line.strip():
                forward(line)

    try:
        while queue and len(running) < processes:
            start_one()
        while running:
            readable, _, _ = select.select([g.events for g in running.values() if not g.closed], [], [], 0.05)
            for grandchild in list(running.values()):
                if grandchild.events in readable:
                    chunk = _read(grandchild.events)
                    if chunk:
                        take(grandchild, chunk)
                    else:
                        grandchild.closed = True
            for grandchild in list(running.values()):
                finished, status = os.waitpid(grandchild.pid, os.WNOHANG)
                if not finished:
                    continue
                # what it wrote before it died (never wait for EOF: a process the model
                # code forked may hold the pipe open)
                while not grandchild.closed and select.select([grandchild.events], [], [], 0)[0]:
                    chunk = _read(grandchild.events)
                    if not chunk:
                        break
                    take(grandchild, chunk)
                del running[grandchild.pid]
                _close(grandchild.tasks)
                _close(grandchild.events)
                if grandchild.given is not None:  # died in that model (or before naming it)
                    crashed(grandchild.given, os.waitstatus_to_exitcode(status))
                    write_line(progress, f"done {grandchild.given}")
                if queue and len(running) < processes:
                    start_one()
    finally:
        for grandchild in running.values():  # only when the child itself fails: never leave them
            try:
                os.kill(grandchild.pid, 9)
                os.waitpid(grandchild.pid, 0)
            except OSError:
                pass


def _fork(by_index: dict[int, dict[str, Any]], run_one: Callable[[dict[str, Any], int], None],
          siblings: list[int]) -> _Grandchild:
    task_read, task_write = os.pipe()
    event_read, event_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the grandchild
        code = 0
        try:
            for fd in [task_write, event_read] + siblings:
                _close(fd)
            buffer = b""
            while True:
                while b"\n" not in buffer:
                    chunk = os.read(task_read, 4096)
                    if not chunk:  # no more models
                        os._exit(0)
                    buffer += chunk
                line, _, buffer = buffer.partition(b"\n")
                run_one(by_index[int(line)], event_write)
        except BaseException:  # noqa: BLE001 - never return into the child's loop
            code = 70
        finally:
            os._exit(code)
    _close(task_read)
    _close(event_write)
    return _Grandchild(pid, task_write, event_read)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 1 << 20)
    except OSError:
        return b""


def _close(fd: int) -> None:
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass
