"""What running each model file in its own forked child costs (issue 13: one file's code
cannot reach another's), against all files in one worker process (``GRADLINT_NO_FORK=1``).

    python bench/fork_cost.py [--files 24] [--runs 3] [--device auto|cpu|cuda]

Times whole processes, ``gradlint --no-cache --jobs 1 --output-format json .`` on a
generated tree of small model files (a 4-layer MLP each, so the fork and, on a GPU,
each child's own CUDA context are a visible part of the time), alternating the two
modes, and prints the medians, their ratio and the cost per file. It also checks that
both modes report the same findings. On a GPU machine the default device (auto) probes
on CUDA, so each forked child pays its own CUDA initialisation; ``--device cpu`` shows
the fork alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODEL_FILE = '''"""Generated model file {index} for bench/fork_cost.py."""
import torch.nn as nn


class Small{index}(nn.Module):
    def __init__(self, width={width}):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(width, width), nn.Sigmoid(), nn.Linear(width, width), nn.Sigmoid(),
            nn.Linear(width, width), nn.Sigmoid(), nn.Linear(width, 4),
        )

    def forward(self, x):
        return self.layers(x)
'''


def write_models(root: Path, files: int) -> None:
    for index in range(files):
        (root / f"model_{index:03d}.py").write_text(MODEL_FILE.format(index=index, width=16 + index % 5 * 8))


def gradlint(root: Path, device: str, no_fork: bool) -> tuple[float, list[tuple[str, int, str]]]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("GRADLINT_NO_FORK", None)
    if no_fork:
        env["GRADLINT_NO_FORK"] = "1"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gradlint", "--no-cache", "--jobs", "1", "--device", device,
         "--output-format", "json", "."], cwd=root, capture_output=True, text=True, env=env,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"gradlint failed ({done.returncode}): {done.stderr[-2000:]}")
    findings = sorted((f["path"], f["line"], f["code"]) for f in json.loads(done.stdout)["findings"])
    return elapsed, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_models(root, args.files)
        forked: list[float] = []
        single: list[float] = []
        seen: dict[bool, list[tuple[str, int, str]]] = {}
        for _ in range(args.runs):
            for no_fork, times in ((False, forked), (True, single)):
                seconds, findings = gradlint(root, args.device, no_fork)
                times.append(seconds)
                if seen.setdefault(no_fork, findings) != findings:
                    raise SystemExit("a mode's findings changed between runs")
        if seen[False] != seen[True]:
            raise SystemExit(f"the modes disagree: {len(seen[False])} findings forked, {len(seen[True])} not")
    fork_s, single_s = statistics.median(forked), statistics.median(single)
    print(f"== {args.files} model files, --jobs 1, --device {args.device}, median of {args.runs} ==")
    print(f"  a child forked per file   {fork_s:7.2f} s")
    print(f"  one process (NO_FORK=1)   {single_s:7.2f} s")
    print(f"  ratio forked/one          {fork_s / single_s:7.2f}")
    print(f"  cost per file             {(fork_s - single_s) / args.files * 1000:7.1f} ms")
    print(f"  findings (same in both)   {len(seen[False])}")


if __name__ == "__main__":
    main()
