"""What model analysis costs on a real model file, as a user runs it (issue 13, item 6).

Runs ``gradlint --no-cache --output-format json FILE`` in a subprocess pinned to two
cores (``taskset -c 0,1`` when available), with ``GRADLINT_COST=1`` so that each model's
JSON entry carries its time and memory, and samples the memory of the whole process
tree (gradlint, its workers, their forked children and grandchildren) every 0.1 s.

    python bench/realmodel_cost.py ~/.cache/gradlint-realcode/src/timm-1.0.31 timm/models/resnet.py --torchvision-stand-in

Measured 2026-11-28 (timm 1.0.31 resnet.py, 80 variants, CPU torch 2.13.0, on a 2-core
machine shared with other jobs, load average ~11): 78 analysed (2 need a data file the
sdist lacks), those up to the file's shared budget of 13M parameters probed, the rest
analysed on meta; 68.6 CPU-seconds for the whole process tree (wall
242 s under that load), peak summed RSS 767 MB. Before the shared budget and the
malloc_trim between models: 194 CPU-s and 2289 MB; before the meta builds, issue 13
reports 133 s and ~4 GB. Re-measured 2026-11-29 on the idle machine (load average 1.2):
wall 75.6 s, 73.7 CPU-seconds, peak 1126 MB, 78 of 80 analysed: one process after the
import (4.9 s), ~12 s for the models probed at 224x224, ~0.75 s for each of the other 73
built and traced on meta.

Then (2026-11-29, same machine, shared by three agents, load average 4-8 throughout,
so the wall times are loaded ones): the gc.collect() after each model no longer scans
torch's and the file's ~335k objects (frozen after the import), meta builds skip random
fills and the fx trace no longer resolves a real path per node, so a meta model costs
~0.2 CPU-s; and when ``--jobs`` leaves spare processes (a one-file run on 2 cores) the
worker spreads the file's models over two processes forked after its import
(``gradlint/model/splitting.py``). Same findings and models list as before (costs and
failure durations aside), 78 of 80 analysed:

    run (this script, 2 cores)       load      wall     CPU-s  longest chain  RSS sum  PSS sum
    main before (ae2e792)            5.6->4.9  166.0 s  75.9   75.8 s         1206 MB  1032 MB
    now, split over 2 processes      4.7->6.9  104.4 s  45.9   28.0 s         1990 MB  1260 MB
    now, GRADLINT_NO_SPLIT=1         6.9->5.9   75.6 s  46.8   46.6 s         1231 MB  1042 MB

Re-measured on the idle machine (load average 1.4, only this run), 2026-11-29:

    now, split over 2 processes      1.4->1.5   30.3 s  42.5   27.4 s         1758 MB  1163 MB
    now, GRADLINT_NO_SPLIT=1         1.4->1.3   46.6 s  46.2   46.0 s         1129 MB  1007 MB

"Longest chain" is the most CPU time along one chain of the process tree (gradlint, its
worker, the file's child, the busier grandchild; /proc/PID/stat): the wall time on idle
cores, where no process waits for a CPU. The loaded wall times say nothing about the
split: the kernel shares the CPU between sessions (autogroup), not processes, so under
load a second process gets the worker's session no more CPU (the loaded split runs took
79-110 s, the unsplit ones 73-87 s). The two grandchildren ran 18.0 and 18.3 CPU-s: the
split costs ~2 CPU-s in all (each warms its own caches).

Memory: the RSS sum counts a page shared by forked processes (torch, timm, the imported
module) once per process, an upper bound that grows with every process forked; the PSS
sum (``/proc/PID/smaps_rollup``) divides each shared page among its sharers, so it is
what the tree holds. Both are printed (MiB). With the split, the RSS sum sat at
1960-2010 MiB over eight runs, just under the issue's 2 GiB; the PSS sum at 1190-1420.

Prints the wall time, the CPU time of the whole tree (every process is waited for, so
its time is counted), the longest chain, the load average before and after, the peaks
of the summed RSS and PSS, how many models were found and analysed, and the five slowest models. timm
imports torchvision, whose PyPI wheel does not import with the CPU build of torch;
``--torchvision-stand-in`` puts ``bench/shims`` first on PYTHONPATH (see its docstring).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent


def _tree_memory_mb(root_pid: int, cpu: dict[int, tuple[int, float]]) -> tuple[float, float]:
    """(summed RSS, summed PSS) of ``root_pid`` and every descendant, MiB (from /proc);
    records each one's (parent, CPU seconds so far) in ``cpu``.

    Summed RSS counts a page shared by forked processes once per process: an upper bound
    once a worker forks children after importing torch and the user's file. PSS divides
    each shared page among the processes sharing it, so its sum is what the tree holds."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    seconds: dict[int, tuple[int, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            parent, pages = int(fields[1]), int(fields[21])
            seconds[int(entry)] = (parent, (int(fields[11]) + int(fields[12])) / tick)
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
        rss[int(entry)] = pages
    total, proportional, stack = 0, 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        proportional += _pss_kb(pid)
        if pid in seconds:
            cpu[pid] = seconds[pid]
        stack.extend(children.get(pid, []))
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20, proportional / 1024


def _longest_cpu_chain(cpu: dict[int, tuple[int, float]], root_pid: int) -> float:
    """The most CPU seconds along one chain of the tree (gradlint, a worker, a file's
    child, one of its grandchildren): about the wall time on idle cores, where no process
    waits for a CPU. Siblings count as parallel (a child restarted after a crash ran after
    its sibling: then this is low), and the last 0.1 s of a process may be missed."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in cpu.items():
        children.setdefault(parent, []).append(pid)

    def longest(pid: int) -> float:
        return cpu.get(pid, (0, 0.0))[1] + max((longest(child) for child in children.get(pid, [])), default=0.0)

    return longest(root_pid)


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return next((int(line.split()[1]) for line in rollup if line.startswith("Pss:")), 0)
    except (OSError, ValueError, IndexError):
        return 0  # gone, or not Linux >= 4.14


def measure(root: Path, target: str, stand_in: bool, extra: list[str], save: Optional[Path] = None) -> dict:
    env = {**os.environ, "GRADLINT_COST": "1", "OMP_NUM_THREADS": "1", "NO_COLOR": "1"}
    paths = [str(HERE.parent)] + ([str(HERE / "shims")] if stand_in else []) + [str(root)]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = [sys.executable, "-m", "gradlint", "--no-cache", "--output-format", "json", *extra, target]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0,1", *command]
    peak, peak_pss = 0.0, 0.0
    cpu: dict[int, tuple[int, float]] = {}
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss
        while not done.is_set():
            rss, pss = _tree_memory_mb(process.pid, cpu)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    stdout, stderr = process.communicate()
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of gradlint and every process it waited for: on a machine shared with
    # other jobs the wall time grows with the load, the CPU time hardly does
    cpu_total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    done.set()
    sampler.join()
    if save is not None:
        save.write_text(stdout)
    report = json.loads(stdout) if stdout.strip().startswith("{") else {"models": [], "findings": [], "error": stderr[-2000:]}
    models = report.get("models", [])
    analysed = [m for m in models if m.get("status") == "analysed"]
    slowest = sorted(analysed, key=lambda m: -(m.get("cost") or {}).get("seconds", 0))[:5]
    return {
        "target": target, "seconds": round(seconds, 1), "cpu_seconds": round(cpu_total, 1),
        "cpu_longest_chain_seconds": round(_longest_cpu_chain(cpu, process.pid), 1),
        "load_average": [load_before, os.getloadavg()[0]], "peak_rss_mb": round(peak), "peak_pss_mb": round(peak_pss),
        "models": len(models), "analysed": len(analysed),
        "not_analysed": [(m["name"], m.get("status"), m.get("error") or m.get("reason")) for m in models if m.get("status") != "analysed"][:10],
        "findings": {code: sum(1 for f in report.get("findings", []) if f["code"] == code)
                     for code in sorted({f["code"] for f in report.get("findings", [])})},
        "slowest": [(m["name"], m.get("parameters"), m.get("cost")) for m in slowest],
        "error": report.get("error"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="the project root (cwd of the run)")
    parser.add_argument("target", help="the file or folder to lint, relative to the root")
    parser.add_argument("--torchvision-stand-in", action="store_true")
    parser.add_argument("--save-json", type=Path, help="also write gradlint's JSON report here (to compare runs)")
    parser.add_argument("gradlint_args", nargs="*", help="more gradlint arguments (after --)")
    args = parser.parse_args()
    print(json.dumps(measure(args.root.expanduser().resolve(), args.target, args.torchvision_stand_in,
                             args.gradlint_args, args.save_json), indent=1))


if __name__ == "__main__":
    main()
