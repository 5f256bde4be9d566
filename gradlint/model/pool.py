"""The main-process side of the worker: start it, read its events, enforce the time limit
per model, and after a hang or a crash record why and start a fresh worker for the
models that are left. Whatever the model code does, this returns one result per model.

With ``--jobs N`` and several model files, :func:`run_workers` spreads the files over up
to N such workers (a file's models stay together, so it is imported once; each worker
pays one torch import, so one model file never gets more than one worker). When N
exceeds the workers, a worker spreads each file's models over forked processes after
the file's import (``file_processes``, ``splitting``), so it may analyse several models
at once. Results are keyed by candidate index, so the output does not depend on N.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from gradlint.jobs import default_jobs
from gradlint.model.messages import Event, Failed, ModelResult, NoTorch
from gradlint.model.scratch import make_scratch, remove_scratch, scratch_env

STARTUP_LIMIT = 120.0  # seconds for the worker to import torch
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _stderr_tail(stream: Any) -> str:
    """The last meaningful line the worker wrote to stderr (e.g. 'Fatal Python error: ...')."""
    try:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(max(0, size - 4096))
        lines = [l.strip() for l in stream.read().decode("utf-8", "replace").splitlines() if l.strip()]
    except OSError:
        return ""
    for line in lines:
        if line.startswith("Fatal Python error"):
            return line[:200]
    return lines[-1][:200] if lines else ""


def _crash_reason(returncode: Optional[int], stderr_tail: str, memory_limit: int) -> str:
    if returncode is not None and returncode < 0:
        name = _signal_name(-returncode)
        reason = f"the worker process crashed ({name})"
        if name == "SIGKILL":
            reason += f"; killed from outside, likely out of memory (limit {memory_limit} MiB)"
    else:
        reason = f"the process exited with code {returncode} (os._exit or a native abort in the model code)"
    if stderr_tail and "Fatal Python error" in stderr_tail:
        reason += f": {stderr_tail}"
    return reason


def _cores() -> int:
    return default_jobs()


def _by_file(candidates: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_file: dict[str, list[dict[str, Any]]] = {}
    for candidate in candidates:
        by_file.setdefault(str(candidate["file"]), []).append(candidate)
    return by_file


def torch_threads(candidates: Sequence[dict[str, Any]]) -> Optional[int]:
    """torch's intra-op threads per process: None (torch's default) for a single model,
    else cores // min(cores, the processes the run can use at most): one per model file,
    or per model of its largest file (a worker spreads a file's models over processes,
    see ``file_processes``). It must not depend on --jobs: the thread count changes how
    reductions are split, so the measured norms would differ in their last bits; and
    it keeps N processes (N <= cores) from oversubscribing the cores."""
    by_file = _by_file(candidates)
    processes = max([len(by_file)] + [len(group) for group in by_file.values()])
    if processes <= 1:
        return None
    cores = _cores()
    return max(1, cores // min(cores, processes))


def plan_workers(candidates: Sequence[dict[str, Any]], jobs: Optional[int]) -> list[list[dict[str, Any]]]:
    """The candidates of each worker, in index order: whole files, at most ``jobs`` workers
    (None: the cores), the files with most models placed first on the least-loaded worker."""
    by_file = _by_file(candidates)
    if jobs is None:
        jobs = _cores()
    count = max(1, min(jobs, len(by_file)))
    if count == 1:
        return [list(candidates)] if candidates else []
    buckets: list[list[dict[str, Any]]] = [[] for _ in range(count)]
    for group in sorted(by_file.values(), key=lambda g: (-len(g), g[0]["index"])):
        min(buckets, key=len).extend(group)  # ties: the first bucket (deterministic)
    return [sorted(bucket, key=lambda c: c["index"]) for bucket in buckets]


def file_processes(workers: int, jobs: Optional[int]) -> int:
    """How many processes a worker may spread one file's models over (see splitting):
    the processes ``--jobs`` allows beyond one per worker, shared evenly (a one-file run
    on 2 cores: 2). Never more busy processes than ``jobs``; the output is the same."""
    return max(1, (jobs or _cores()) // max(1, workers))


def run_workers(candidates: list[dict[str, Any]], job: dict[str, Any], timeout: float,
                jobs: Optional[int] = None) -> dict[int, ModelResult]:
    """:func:`run_worker` over :func:`plan_workers`'s groups at once (each group keeps its
    own time limits, crash isolation and restarts); one result per candidate index."""
    groups = plan_workers(candidates, jobs)
    # what a worker sees must not depend on which models it was given
    job = {**job, "threads": torch_threads(candidates),
           "user_folders": sorted({os.path.dirname(str(c["file"])) for c in candidates}),
           "file_processes": file_processes(len(groups), jobs)}
    if len(groups) <= 1:
        return run_worker(candidates, job, timeout)
    from concurrent.futures import ThreadPoolExecutor

    results: dict[int, ModelResult] = {}
    # threads suffice: each only waits on its worker process's pipe
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        for found in pool.map(lambda group: run_worker(group, job, timeout), groups):
            results.update(found)
    return results


def run_worker(candidates: list[dict[str, Any]], job: dict[str, Any], timeout: float) -> dict[int, ModelResult]:
    """Analyse every candidate; a result per candidate index (Analysed, Skipped, Failed or NoTorch)."""
    results: dict[int, ModelResult] = {}
    pending = list(candidates)
    while pending:
        stop = _one_worker(pending, job, timeout, results)
        if stop is not None:  # the worker cannot start at all: the same answer for every model
            for candidate in pending:
                results.setdefault(candidate["index"], stop)
            break
        left = [c for c in pending if c["index"] not in results]
        if len(left) == len(pending):  # no progress: never loop forever
            for candidate in left:
                results[candidate["index"]] = Failed("start", "the worker made no progress")
            break
        pending = left
    return results


def _one_worker(pending: list[dict[str, Any]], job: dict[str, Any], timeout: float,
                results: dict[int, ModelResult]) -> Optional[ModelResult]:
    read_fd, write_fd = os.pipe()
    # user code runs in a scratch directory with scratch cache homes (see scratch)
    scratch_root = make_scratch()
    work = os.path.join(scratch_root, "work")
    job = {**job, "scratch": work}
    env = scratch_env(dict(os.environ), scratch_root)
    env["GRADLINT_RESULT_FD"] = str(write_fd)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONWARNINGS", "ignore")
    stderr = tempfile.TemporaryFile()
    memory_limit = int(job.get("memory_limit", 0))
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "gradlint.model.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr,
            pass_fds=(write_fd,), env=env, cwd=work, start_new_session=True,
        )
    except OSError as error:
        os.close(read_fd)
        os.close(write_fd)
        stderr.close()
        remove_scratch(scratch_root)
        return Failed("start", f"cannot start the worker: {error}")
    os.close(write_fd)
    try:
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps({**job, "candidates": pending}).encode("utf-8"))
            process.stdin.close()
        except OSError:
            pass  # it died at once: reported below
        return _read_events(process, read_fd, timeout, results, stderr, memory_limit, pending)
    finally:
        _kill(process)
        os.close(read_fd)
        stderr.close()
        remove_scratch(scratch_root)


def _kill(process: subprocess.Popen) -> None:
    # the whole session, even after the worker exited: processes the model code forked
    # (it runs with start_new_session) must not outlive the run
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        if process.poll() is None:
            process.kill()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


@dataclass
class _Running:
    """A model the worker is analysing now (several at once when it split a file)."""

    stage: str
    started: float


def _read_events(process: subprocess.Popen, read_fd: int, timeout: float, results: dict[int, ModelResult],
                 stderr: Any, memory_limit: int, pending: list[dict[str, Any]]) -> Optional[ModelResult]:
    buffer = b""
    running: dict[int, _Running] = {}  # index -> its stage and start
    started = time.monotonic()
    idle_deadline = started + STARTUP_LIMIT + timeout  # when no model runs: until the next start
    ready = False
    while True:
        now = time.monotonic()
        deadline = min([r.started + timeout for r in running.values()], default=idle_deadline)
        if now >= deadline:
            _kill(process)
            late = min(running, key=lambda i: running[i].started, default=None)
            if late is None:
                return Failed("start", f"the worker did not start within {STARTUP_LIMIT + timeout:.0f} s", now - started)
            stage = running[late].stage
            results[late] = Failed(stage, f"timed out after {timeout:g} s", now - running[late].started, timeout=True)
            if stage == "import":  # the file's other models would wait for the same import
                file = next(c["file"] for c in pending if c["index"] == late)
                for candidate in pending:
                    if candidate["file"] == file:
                        results.setdefault(candidate["index"], results[late])
            return None  # the models running beside it get a fresh worker
        readable, _, _ = select.select([read_fd], [], [], min(deadline - now, 0.5))
        chunk = os.read(read_fd, 1 << 20) if readable else None
        if chunk == b"" or (chunk is None and process.poll() is not None):
            process.wait()
            if chunk is None:  # exited while a child kept the pipe open: drain what is there
                readable, _, _ = select.select([read_fd], [], [], 0)
                chunk = os.read(read_fd, 1 << 20) if readable else b""
                if chunk:
                    buffer += chunk
                    continue
            reason = _crash_reason(process.returncode, _stderr_tail(stderr), memory_limit)
            if running:  # the worker died with them
                for index, model in running.items():
                    results[index] = Failed(model.stage, reason, time.monotonic() - model.started)
                return None
            if not ready:
                return Failed("start", f"the worker could not start: {reason}; {_stderr_tail(stderr)}".rstrip("; "),
                              time.monotonic() - started)
            return None
        if chunk is None:
            continue
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            try:
                event = Event.from_dict(json.loads(line))
            except (ValueError, TypeError, KeyError, AttributeError):
                # the tail of an event a child was killed in the middle of writing
                continue
            kind = event.event
            if kind == "no-torch":
                return NoTorch(event.message or "")
            if kind == "ready":
                ready = True
            elif kind == "start" and event.index is not None:
                # started again: a split file's first model, imported under its name first
                running.setdefault(event.index, _Running("import", time.monotonic())).stage = "import"
            elif kind == "stage" and event.stage is not None and event.index in running:
                running[event.index].stage = event.stage
            elif kind in ("result", "crashed") and event.index is not None:
                ended: Optional[_Running] = running.pop(event.index, None)
                result = event.result
                if kind == "crashed" or result is None:  # the worker's child for one file died in this model
                    reason = _crash_reason(event.returncode, _stderr_tail(stderr), memory_limit)
                    result = Failed(ended.stage if ended else "import", reason,
                                    time.monotonic() - (ended.started if ended else started))
                results[event.index] = result
                idle_deadline = time.monotonic() + timeout  # until the next start
            elif kind == "done":
                return None
