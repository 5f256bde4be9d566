"""The worker process: the only place user code and torch run.

``python -m gradlint.model.worker`` reads a job (JSON) on stdin and writes events, one
JSON line each, to the file descriptor named by ``GRADLINT_RESULT_FD``; the user's
prints go to stdout/stderr, which the parent discards, so they cannot corrupt results.

Events: ``ready`` (torch imported) or ``no-torch``; per candidate ``start``, ``stage``
(import, build, trace, analyse, probe) and ``result`` (or ``crashed``, when the forked
child analysing the file died in that model); ``done``. On Linux each file is analysed
in a child forked after torch is imported (see ``forking``). The parent
enforces the time limit per model and restarts the worker after a hang (see ``pool``).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from typing import Any, Optional

from gradlint.findings import Span
from gradlint.model import scratch, user_import
from gradlint.model.forking import can_fork, run_file_forked
from gradlint.model.messages import Analysed, Event, Failed, ModelResult, ProbeError, Skipped
from gradlint.model.splitting import run_split, write_line
from gradlint.model.user_import import load_user_module, use_folder

_import_seconds: dict[int, float] = {}  # model index -> its file's import, done before the split


class Channel:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def send(self, event: Event, fresh_line: bool = False) -> None:
        # fresh_line: a child that died may have left half an event on the line
        self.write((("\n" if fresh_line else "") + json.dumps(event.to_dict(), default=str) + "\n").encode("utf-8"))

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]


def _user_frame(error: BaseException, is_user: Any) -> str:
    found = ""
    for frame in traceback.extract_tb(error.__traceback__):
        if is_user(frame.filename):
            found = f" (at {os.path.basename(frame.filename)}:{frame.lineno})"
    return found


def describe(error: BaseException, is_user: Any, memory_limit: int) -> str:
    """One line: what went wrong, where in the user's code."""
    hosts = getattr(error, "gradlint_hosts", None) or list(scratch.attempted)
    if hosts:  # whatever the library wrapped the refused connection in
        return scratch.download_reason(hosts) + _user_frame(error, is_user)
    if isinstance(error, SystemExit):
        return f"the model code called sys.exit({error.code!r}){_user_frame(error, is_user)}"
    if isinstance(error, KeyboardInterrupt):
        return "interrupted (KeyboardInterrupt)"
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(error, MemoryError) or "can't allocate memory" in first or "not enough memory" in first:
        return f"ran out of memory (limit {memory_limit} MiB; raise [tool.gradlint] memory-limit){_user_frame(error, is_user)}"
    if len(first) > 300:
        first = first[:297] + "..."
    return f"{type(error).__name__}: {first}".rstrip(": ") + _user_frame(error, is_user)


def _resolve(module: Any, dotted: str) -> Any:
    target = module
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


def analyse(candidate: dict[str, Any], job: dict[str, Any], channel: Channel, is_user: Any) -> ModelResult:
    import torch
    import torch.nn as nn

    from gradlint.model import extract
    from gradlint.model.budget import build_within_budget
    from gradlint.model.executed import executed_or_tree
    from gradlint.model.trace import trace_model

    index = candidate["index"]
    timings: dict[str, float] = {}
    stage = "import"

    def enter(name: str) -> float:
        nonlocal stage
        stage = name
        channel.send(Event("stage", index=index, stage=name))
        return time.perf_counter()

    started = time.perf_counter()
    scratch.attempted.clear()
    try:
        mark = enter("import")
        module = load_user_module(candidate["file"], job["root"])
        imported_before = _import_seconds.pop(index, 0.0)  # by the split, for this model
        started -= imported_before
        timings["import"] = time.perf_counter() - mark + imported_before
        mark = enter("build")
        try:
            factory = _resolve(module, candidate["callable"])
        except AttributeError:
            return Failed("build", f"{os.path.basename(candidate['file'])} defines no '{candidate['callable']}'",
                          time.perf_counter() - started)
        # the same seed as the probe: weights, init verdicts and measurements repeat run to run
        torch.manual_seed(int((job.get("probe") or {}).get("seed", 0)))
        arguments = build_arguments(candidate.get("kwargs", {}), job["root"])
        use_folder(os.path.dirname(candidate["file"]), job["root"])  # a config class's file may have moved it
        model, too_large = build_within_budget(factory, candidate.get("args", []), arguments,
                                               int((job.get("probe") or {}).get("seed", 0)), int(job.get("memory_limit", 0)),
                                               int(candidate.get("models_in_file", 1)))
        if not isinstance(model, nn.Module):
            return Failed("build", f"{candidate['callable']}() returned a {type(model).__name__}, not an nn.Module",
                          time.perf_counter() - started)
        if type(model).forward is nn.Module.forward:
            # a container of layers (no forward of its own) is not a model to run
            return Skipped(f"{type(model).__name__} defines no forward()", "build", time.perf_counter() - started)
        if not extract.has_weight_layer(model):
            # an activation, a norm, a post-processor: a part of a model, not one to check
            return Skipped(f"{type(model).__name__} has no weight layer: a part of a model, not a model", "build",
                           time.perf_counter() - started)
        timings["build"] = time.perf_counter() - mark
        mark = enter("trace")
        graph_module, note = trace_model(model, is_user)
        timings["trace"] = time.perf_counter() - mark
        mark = enter("analyse")
        fallback = Span(candidate["line"], candidate.get("column", 1), candidate["line"], candidate.get("column", 1) + len(candidate["callable"]),
                        candidate["file"])
        structure = "fx"
        if graph_module is not None:
            graph = extract.from_fx(model, graph_module, is_user, fallback)
        else:
            graph, structure, note = executed_or_tree(model, candidate, module.__dict__, job, is_user, fallback, note,
                                                      lambda error: describe(error, is_user, job.get("memory_limit", 0)))
        timings["analyse"] = time.perf_counter() - mark
        graph.update({
            "name": candidate["name"], "file": candidate["file"], "line": candidate["line"],
            "column": candidate.get("column", 1), "traced": structure != "module tree", "structure": structure,
            "trace_note": note,
            "parameters": sum(p.numel() for p in model.parameters()),
            "submodule_classes": _submodule_classes(model, is_user),
        })
        if too_large:
            graph["probe_skipped"] = too_large
        probe_settings = job.get("probe") or {}
        probe = None
        if probe_settings.get("enabled") and not too_large:
            mark = enter("probe")
            probe = _probe(model, graph_module, graph, candidate, module, probe_settings, is_user, job)
            timings["probe"] = time.perf_counter() - mark
        return Analysed(graph, timings, probe, time.perf_counter() - started, _memory_mb())
    except BaseException as error:  # noqa: BLE001 - user code: SystemExit included
        return Failed(stage, describe(error, is_user, job.get("memory_limit", 0)), time.perf_counter() - started)
    finally:
        try:  # the model may have changed the working directory
            os.chdir(job.get("scratch") or job["root"])
        except OSError:
            pass


def build_arguments(value: Any, root: str) -> Any:
    """Config kwargs as the constructor takes them: a table with ``__class__ =
    "file.py:Class"`` is that class built with the table's other keys (nanoGPT's
    ``GPT(GPTConfig(n_layer=4))``), at any depth."""
    if isinstance(value, list):
        return [build_arguments(v, root) for v in value]
    if not isinstance(value, dict):
        return value
    fields = {k: build_arguments(v, root) for k, v in value.items() if k != "__class__"}
    if "__class__" not in value:
        return fields
    target = value["__class__"]
    if not isinstance(target, str) or ":" not in target:
        raise ValueError("'config' was given but gradlint found no config class for this constructor; write "
                         "kwargs = { <parameter> = { __class__ = \"file.py:ConfigClass\", ... } } instead")
    file_part, _, name = target.rpartition(":")
    path = os.path.realpath(os.path.join(root, file_part))
    holder = load_user_module(path, root)
    return _resolve(holder, name)(**fields)


def _probe(model: Any, graph_module: Any, graph: dict, candidate: dict, module: Any, settings: dict, is_user: Any, job: dict) -> Optional[dict]:
    try:
        from gradlint.probe.entry import probe_model
    except ImportError:
        return None  # no probe in this installation
    try:
        return probe_model(model, graph_module, graph, candidate, module.__dict__, settings)
    except BaseException as error:  # noqa: BLE001 - the probe runs user code too
        return {"error": ProbeError("failed", describe(error, is_user, job.get("memory_limit", 0))).to_dict()}


def _memory_mb() -> dict[str, float]:
    """This process's resident memory now (the model still alive) and its peak so far, MiB."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            resident = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        return {"rss_mb": round(resident, 1), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    except (ImportError, OSError, ValueError, IndexError):
        return {}


def _submodule_classes(model: Any, is_user: Any) -> list[str]:
    """The project's own classes used inside this model (a root is not reported twice)."""
    found = set()
    for sub in list(model.modules())[1:]:
        cls = type(sub)
        file = getattr(sys.modules.get(cls.__module__), "__file__", None)
        if file and is_user(file):
            found.add(f"{os.path.realpath(file)}::{cls.__qualname__}")
    return sorted(found)


def _limit_memory(megabytes: int, probe: dict[str, Any]) -> None:
    """Address-space limit: what torch already maps plus the configured budget. CUDA
    reserves huge virtual ranges, so no limit when the probe may use a GPU."""
    if megabytes <= 0:
        return
    if probe.get("enabled") and probe.get("device") in ("cuda", "auto"):
        import torch

        if torch.cuda.is_available():
            return
    try:
        import resource

        with open("/proc/self/status") as status:
            current = next((int(l.split()[1]) * 1024 for l in status if l.startswith("VmSize:")), 0)
        limit = current + megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        pass  # not on Linux: no limit


def _run_file(candidates: list[dict[str, Any]], job: dict[str, Any], channel: Channel, is_user: Any,
              progress: Optional[int] = None) -> None:
    """Analyse one file's candidates in order; ``progress`` (a pipe to the forking
    parent) hears ``start``/``done`` per candidate, so a crash can be pinned on it."""
    for candidate in candidates:
        if progress is not None:
            write_line(progress, f"start {candidate['index']}")
        channel.send(Event("start", index=candidate["index"]))
        result = analyse(candidate, job, channel, is_user)
        channel.send(Event("result", index=candidate["index"], result=result))
        from gradlint.model.budget import release_memory  # torch is imported by now

        release_memory()
        if progress is not None:
            write_line(progress, f"done {candidate['index']}")


def _run_file_forked(candidates: list[dict[str, Any]], job: dict[str, Any], channel: Channel, is_user: Any) -> None:
    def in_child(left: list[dict[str, Any]], progress: int) -> None:
        user_import.import_done = progress
        _limit_memory(int(job.get("memory_limit", 0)), job.get("probe") or {})
        processes = min(int(job.get("file_processes") or 1), len(left))
        if processes > 1 and os.environ.get("GRADLINT_NO_SPLIT") != "1" and _import_first(left[0], job, channel):
            _run_split(left, processes, job, channel, is_user, progress)
        else:
            _run_file(left, job, channel, is_user, progress=progress)

    def crashed(index: int, returncode: int) -> None:
        channel.send(Event("crashed", index=index, returncode=returncode), fresh_line=True)

    run_file_forked(candidates, in_child, crashed)


def _import_first(first: dict[str, Any], job: dict[str, Any], channel: Channel) -> bool:
    """Import the file before splitting it, under its first model's name (so the parent
    times the import as that model's, as without the split); False when it failed (the
    models then run in turn, each told why at once)."""
    channel.send(Event("start", index=first["index"]))
    channel.send(Event("stage", index=first["index"], stage="import"))
    scratch.attempted.clear()
    mark = time.perf_counter()
    try:
        load_user_module(first["file"], job["root"])
    except BaseException:  # noqa: BLE001 - told to every model by its own analysis
        return False
    finally:
        try:
            os.chdir(job.get("scratch") or job["root"])
        except OSError:
            pass
    _import_seconds[first["index"]] = time.perf_counter() - mark
    return True


def _run_split(left: list[dict[str, Any]], processes: int, job: dict[str, Any], channel: Channel, is_user: Any,
               progress: int) -> None:
    def run_one(candidate: dict[str, Any], events: int) -> None:  # in a grandchild
        user_import.import_done = None
        _run_file([candidate], job, Channel(events), is_user, progress=events)

    def forward(line: bytes) -> None:
        channel.write(line + b"\n")

    def crashed(index: int, returncode: int) -> None:
        channel.send(Event("crashed", index=index, returncode=returncode))

    channel.write(b"\n")  # the file's code may have left half a line on the pipe at import
    run_split(left, processes, run_one, forward, progress, crashed)


def main() -> None:
    channel = Channel(int(os.environ["GRADLINT_RESULT_FD"]))
    job = json.loads(sys.stdin.read())
    scratch.block_network()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # user code that reads stdin gets EOF, not our job
    try:
        import torch  # noqa: F401
    except BaseException as error:  # noqa: BLE001 - a broken torch install is "no torch" too
        channel.send(Event("no-torch", message=f"{type(error).__name__}: {error}".splitlines()[0]))
        os._exit(0)
    from gradlint.model.locate import UserFiles, install_creation_hook

    if job.get("threads") and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(int(job["threads"]))  # the same in every worker of a run (see pool)
    forking = can_fork()
    if not forking:
        _limit_memory(int(job.get("memory_limit", 0)), job.get("probe") or {})
    folders = job.get("user_folders") or sorted({os.path.dirname(c["file"]) for c in job["candidates"]})
    is_user = UserFiles([job["root"]] + list(folders))
    install_creation_hook(is_user)
    channel.send(Event("ready", torch=torch.__version__))
    by_file: dict[str, list[dict[str, Any]]] = {}
    for candidate in job["candidates"]:
        by_file.setdefault(candidate["file"], []).append(candidate)
    for candidates in by_file.values():
        if forking:
            _run_file_forked(candidates, job, channel, is_user)
        else:
            _run_file(candidates, job, channel, is_user)
    channel.send(Event("done"))
    os._exit(0)  # threads the model code started must not keep the worker alive


if __name__ == "__main__":
    main()
