"""A file's models spread over forked processes after its import (``splitting``): a model
that kills its process costs that model only, every other model gets its result, and
the output is the same with the split on (``--jobs 2``, one file) and off
(``GRADLINT_NO_SPLIT=1``)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from conftest import run_gradlint
from gradlint.model import pool
from gradlint.model.splitting import run_split

needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the worker forks on Linux only")

HEADER = "import ctypes, os, sys, time\nimport torch\nimport torch.nn as nn\n\nLOG = {log!r}\n\n"
MODEL = (
    "class {name}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        with open(LOG, 'a') as log:\n            log.write(f'{name} {{os.getpid()}}\\n')\n"
    "{body}"
    "        self.fc = nn.Linear({width}, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n\n\n"
)
CRASHES = {"Exits": "        os._exit(9)\n", "Segfaults": "        ctypes.string_at(0)\n"}
NAMES = ["First", "Second", "Third", "Exits", "Fourth", "Segfaults", "Fifth", "Sixth"]


def _write(folder: Path, bodies: dict[str, str]) -> dict[str, int]:
    """models.py with NAMES in order; the line of each class."""
    text = HEADER.format(log=str(folder / "built.log"))
    lines = {}
    for width, name in enumerate(NAMES, start=4):
        lines[name] = text.count("\n") + 1
        text += MODEL.format(name=name, width=width, body=bodies.get(name, ""))
    (folder / "models.py").write_text(text)
    (folder / "pyproject.toml").write_text("[tool.gradlint]\ntimeout = 5\n\n[tool.gradlint.probe]\ndevice = 'cpu'\n")
    return lines


def _run(folder: Path, split: bool) -> tuple[dict, dict[str, set[int]]]:
    log = folder / "built.log"
    log.unlink(missing_ok=True)
    env = {"OMP_NUM_THREADS": "1"} if split else {"OMP_NUM_THREADS": "1", "GRADLINT_NO_SPLIT": "1"}
    completed = run_gradlint("--jobs", "2", "--no-cache", "--output-format", "json", "models.py",
                             cwd=folder, env=env, timeout=150)
    assert "Traceback" not in completed.stderr, completed.stderr
    processes: dict[str, set[int]] = {}
    for line in log.read_text().splitlines():
        name, pid = line.split()
        processes.setdefault(name, set()).add(int(pid))
    return json.loads(completed.stdout), processes


def _without_durations(report: dict) -> str:
    # a failure's message says how long it took ("(under 1 s)"): the clock, not the split
    return re.sub(r"\((under 1|\d+) s\)", "(_ s)", json.dumps(report, sort_keys=True))


@needs_fork
def test_a_crash_in_a_split_file_costs_that_model_only_and_the_output_does_not_change(tmp_path):
    lines = _write(tmp_path, CRASHES)
    split, processes = _run(tmp_path, split=True)
    # the split happened: the three models before the first crash ran in two processes
    assert len(processes["First"] | processes["Second"] | processes["Third"]) == 2, processes
    found = [(f["code"], f["line"], f["message"]) for f in split["findings"]]
    assert [(code, line) for code, line, _ in found] == [("GL002", lines["Exits"]), ("GL002", lines["Segfaults"])]
    assert "exited with code 9" in found[0][2] and "SIGSEGV" in found[1][2]
    statuses = {m["name"]: m["status"] for m in split["models"]}
    assert statuses == {name: "failed" if name in CRASHES else "analysed" for name in NAMES}
    assert all(m["probe"] for m in split["models"] if m["status"] == "analysed")

    in_turn, processes = _run(tmp_path, split=False)
    assert len(processes["First"] | processes["Second"] | processes["Third"]) == 1  # one child until the crash
    assert _without_durations(in_turn) == _without_durations(split)


@needs_fork
def test_a_hanging_model_of_a_split_file_times_out_alone(tmp_path):
    lines = _write(tmp_path, {"Fourth": "        time.sleep(600)\n"})
    report, _ = _run(tmp_path, split=True)
    assert [(f["code"], f["line"]) for f in report["findings"]] == [("GL002", lines["Fourth"])]
    assert "timed out after 5 s" in report["findings"][0]["message"]
    assert [m["name"] for m in report["models"] if m["status"] == "analysed"] == [n for n in NAMES if n != "Fourth"]


def test_spare_jobs_go_to_splitting_files():
    assert pool.file_processes(1, 2) == 2  # one model file, two jobs: both
    assert pool.file_processes(2, 2) == 1  # a worker per file already fills the jobs
    assert pool.file_processes(2, 5) == 2  # never more busy processes than jobs
    assert pool.file_processes(3, 1) == 1


@needs_fork
def test_run_split_pins_each_death_on_its_model_and_drops_half_lines():
    candidates = [{"index": i} for i in range(7)]

    def run_one(candidate: dict, events: int) -> None:  # in a grandchild
        index = candidate["index"]
        os.write(events, f"start {index}\n".encode())
        if index == 2:
            os._exit(3)
        if index == 4:
            os.write(events, b'{"event": "result", "ind')  # dies in the middle of an event
            os._exit(5)
        os.write(events, json.dumps({"event": "result", "index": index, "pid": os.getpid()}).encode() + b"\n")
        os.write(events, f"done {index}\n".encode())

    forwarded: list[bytes] = []
    crashed: list[tuple[int, int]] = []
    read_end, write_end = os.pipe()
    run_split(candidates, 3, run_one, forwarded.append, write_end, lambda i, code: crashed.append((i, code)))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as progress:
        told = progress.read().decode().splitlines()
    results = [json.loads(line) for line in forwarded]
    assert sorted(r["index"] for r in results) == [0, 1, 3, 5, 6]
    assert len({r["pid"] for r in results}) >= 2
    assert sorted(crashed) == [(2, 3), (4, 5)]
    assert sorted(told) == sorted([f"start {i}" for i in range(7)] + [f"done {i}" for i in range(7)])
    for index in range(7):  # each model's start before its done
        assert told.index(f"start {index}") < told.index(f"done {index}")
