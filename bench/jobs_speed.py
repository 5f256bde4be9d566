"""Parallel speed: `gradlint --jobs N` on a tree of 200 files against `--jobs 1`.

    python bench/jobs_speed.py [--files 200] [--runs 3] [--jobs 1 2 4]

Times whole processes with --no-cache (the cache would hide the linting) on a
generated tree (bench/tree.py) in a temporary folder, prints medians, the speed-up
over --jobs 1 and the number of cores, and checks that every N prints exactly the
same output as --jobs 1. Also times a one-file run with the default --jobs, which
must stay serial (no pool start-up for a pre-commit run on one file).

Then models: ``--model-files`` (default 6) generated files, each a small ResNet-style
convnet built, traced and probed, with --jobs 1 against --jobs 2 (model files spread
over worker processes, each paying one torch import); outputs must be identical.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tree import write_tree  # noqa: E402


MODEL = """import torch.nn as nn


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))


class Net{i}(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.blocks = nn.Sequential(*[Block(32) for _ in range(8)])
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))

    def example_input(self):
        import torch
        return torch.randn(8, 3, 64, 64)
"""


def gradlint(cwd: Path, *args: str, no_exec: bool = True) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gradlint", *(["--no-exec"] if no_exec else []), "--no-cache", *args], cwd=cwd,
        capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"},
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"gradlint failed: {done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=sorted({1, 2, cores}))
    parser.add_argument("--model-files", type=int, default=6)
    args = parser.parse_args()
    source_speed(args, cores)
    if args.model_files:
        model_speed(args, cores)


def model_speed(args: argparse.Namespace, cores: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text("[tool.gradlint.probe]\ndevice = 'cpu'\n")
        for i in range(args.model_files):
            (root / f"net{i}.py").write_text(MODEL.format(i=i))
        times: dict[int, list[float]] = {1: [], 2: []}
        reference = None
        for _ in range(args.runs):
            for n in times:
                seconds, output = gradlint(root, "--jobs", str(n), "--output-format", "json", ".", no_exec=False)
                if reference is None:
                    reference = output
                elif output != reference:
                    raise SystemExit(f"models: --jobs {n} output differs from --jobs 1")
                times[n].append(seconds)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"models: {args.model_files} model files (convnet, built, traced, probed on cpu); {cores} cores; "
          f"medians of {args.runs} runs; outputs identical")
    print(f"  --jobs 1   {one:7.3f} s")
    print(f"  --jobs 2   {two:7.3f} s  speed-up {one / two:.2f}x")


def source_speed(args: argparse.Namespace, cores: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = write_tree(Path(folder), args.files)
        times: dict[int, list[float]] = {n: [] for n in args.jobs}
        reference = gradlint(root, "--jobs", "1", ".")[1]
        for _ in range(args.runs):
            for n in args.jobs:
                seconds, output = gradlint(root, "--jobs", str(n), ".")
                if output != reference:
                    raise SystemExit(f"--jobs {n} output differs from --jobs 1")
                times[n].append(seconds)
        one_file = next(root.rglob("*.py")).relative_to(root).as_posix()
        single_default = statistics.median(gradlint(root, one_file)[0] for _ in range(args.runs))
        single_serial = statistics.median(gradlint(root, "--jobs", "1", one_file)[0] for _ in range(args.runs))
    base = statistics.median(times[1]) if 1 in times else None
    print(f"tree: {args.files} files; {cores} cores; --no-cache; medians of {args.runs} runs; outputs identical")
    for n in args.jobs:
        median = statistics.median(times[n])
        speedup = f"  speed-up {base / median:.2f}x" if base else ""
        print(f"  --jobs {n:<3} {median:7.3f} s{speedup}")
    print(f"one file: default --jobs {single_default:.3f} s, --jobs 1 {single_serial:.3f} s "
          f"(ratio {single_default / single_serial:.2f}: no pool for one file)")


if __name__ == "__main__":
    main()
