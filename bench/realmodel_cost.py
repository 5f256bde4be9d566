"""What model analysis costs on a real model file, as a user runs it (issue 13, item 6).

Runs ``gradlint --no-cache --output-format json FILE`` in a subprocess pinned to two
cores (``taskset -c 0,1`` when available), with ``GRADLINT_COST=1`` so that each model's
JSON entry carries its time and memory, and samples the resident memory of the whole
process tree (gradlint, its workers and their forked children) every 0.1 s.

    python bench/realmodel_cost.py ~/.cache/gradlint-realcode/src/timm-1.0.31 timm/models/resnet.py

Measured 2026-11-28 (timm 1.0.31 resnet.py, 80 variants, CPU torch 2.13.0, on a 2-core
machine shared with other jobs, load average ~11): 78 analysed (2 need a data file the
sdist lacks), those up to the file's shared budget of 13M parameters probed, the rest
analysed on meta; 68.6 CPU-seconds for the whole process tree (wall
242 s under that load), peak summed RSS 767 MB. Before the shared budget and the
malloc_trim between models: 194 CPU-s and 2289 MB; before the meta builds, issue 13
reports 133 s and ~4 GB. Re-measured 2026-11-29 on the idle machine (load average 1.2):
wall 75.6 s, 73.7 CPU-seconds, peak 1126 MB, 78 of 80 analysed. The run is one process
after the import (4.9 s); about 12 s go to the five models probed at 224x224 and the rest
to building and tracing the other 73 on the meta device (~0.75 s each), so the next step
for the 60 s target is to spread one file's models over forked children after its import.

Prints the wall time, the CPU time of the whole tree (what the wall time would be on
two idle cores, the run being mostly one worker), the peak of the summed resident memory, how many models were
found and analysed, and the five slowest models. timm imports torchvision, whose PyPI
wheel does not import with the CPU build of torch; ``--torchvision-stand-in`` puts
``bench/shims`` first on PYTHONPATH (see its docstring).
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

HERE = Path(__file__).resolve().parent


def _tree_rss_mb(root_pid: int) -> float:
    """Summed RSS of ``root_pid`` and every descendant (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            parent, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
        rss[int(entry)] = pages
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(root: Path, target: str, stand_in: bool, extra: list[str]) -> dict:
    env = {**os.environ, "GRADLINT_COST": "1", "OMP_NUM_THREADS": "1", "NO_COLOR": "1"}
    paths = [str(HERE.parent)] + ([str(HERE / "shims")] if stand_in else []) + [str(root)]
    env["PYTHONPATH"] = os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    command = [sys.executable, "-m", "gradlint", "--no-cache", "--output-format", "json", *extra, target]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0,1", *command]
    peak = 0.0
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_mb(process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    stdout, stderr = process.communicate()
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of gradlint and every process it waited for: on a machine shared with
    # other jobs the wall time grows with the load, the CPU time hardly does
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    done.set()
    sampler.join()
    report = json.loads(stdout) if stdout.strip().startswith("{") else {"models": [], "findings": [], "error": stderr[-2000:]}
    models = report.get("models", [])
    analysed = [m for m in models if m.get("status") == "analysed"]
    slowest = sorted(analysed, key=lambda m: -(m.get("cost") or {}).get("seconds", 0))[:5]
    return {
        "target": target, "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
        "load_average": os.getloadavg()[0], "peak_rss_mb": round(peak),
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
    parser.add_argument("gradlint_args", nargs="*", help="more gradlint arguments (after --)")
    args = parser.parse_args()
    print(json.dumps(measure(args.root.expanduser().resolve(), args.target, args.torchvision_stand_in,
                             args.gradlint_args), indent=1))


if __name__ == "__main__":
    main()
