"""Warm-cache speed: a second `gradlint` run on an unchanged tree against the first.

    python bench/cache_speed.py [--files 400] [--runs 5]

Times whole processes (what a user waits for), in one run, on a generated tree
(bench/tree.py) in a temporary folder:

  cold   : `gradlint clean` then `gradlint --no-exec .` (lints every file, writes the cache)
  warm   : `gradlint --no-exec .` again (every file answered from the cache)
  nocache: `gradlint --no-exec --no-cache .` (no cache reads or writes at all)

and prints medians and the ratio cold/warm (target: at least 10x). It also checks
that the warm output is byte-identical to the cold one.
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


def gradlint(cwd: Path, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gradlint", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"gradlint failed: {done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", default="1", help="--jobs for every run (default 1: cache effect alone)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = write_tree(Path(folder), args.files)
        lines = sum(len(p.read_text().splitlines()) for p in root.rglob("*.py"))
        cold, warm, nocache = [], [], []
        for _ in range(args.runs):
            gradlint(root, "clean")
            seconds, cold_out = gradlint(root, "--no-exec", "--jobs", args.jobs, ".")
            cold.append(seconds)
            seconds, warm_out = gradlint(root, "--no-exec", "--jobs", args.jobs, ".")
            warm.append(seconds)
            if warm_out != cold_out:
                raise SystemExit("warm output differs from cold output")
            nocache.append(gradlint(root, "--no-exec", "--no-cache", "--jobs", args.jobs, ".")[0])
        startup = statistics.median(gradlint(root, "--version")[0] for _ in range(args.runs))
    c, w, n = (statistics.median(x) for x in (cold, warm, nocache))
    print(f"tree: {args.files} files, {lines} lines; --jobs {args.jobs}; medians of {args.runs} runs")
    print(f"  cold (lint + write cache) {c:7.3f} s")
    print(f"  warm (all from cache)     {w:7.3f} s")
    print(f"  --no-cache                {n:7.3f} s")
    print(f"  `gradlint --version`      {startup:7.3f} s (process start-up floor)")
    print(f"cold / warm = {c / w:.1f}x   (target >= 10x)")
    print(f"no-cache / warm = {n / w:.1f}x; cache write overhead: cold / no-cache = {c / n:.2f}x")


if __name__ == "__main__":
    main()
