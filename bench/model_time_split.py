"""Where the time of `gradlint model.py` goes, for one model file (issue 8, item 4).

    python bench/model_time_split.py [MODEL.py] [--runs 5]

Prints, medians over --runs: interpreter start and `import torch` (whole processes),
then the worker's own stages for each model of the file (user import, build, trace,
graph extraction, probe), the main process's rules over the results, and the whole
`gradlint --no-cache` process with and without the probe, so the next step knows
where the time goes. Default file: fixtures/models/resnet_bn.py.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wall(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def stages(model_file: Path, runs: int, probe: bool) -> tuple[dict[str, float], float, float]:
    """Median worker stage times, the worker's whole wall time, and the rules' time."""
    from gradlint.config import Settings
    from gradlint.model.analyze import collect, judge
    from gradlint.runner import active_rules

    settings = Settings(root=ROOT)
    settings.probe["enabled"] = probe
    rules = active_rules(settings)
    files = [(model_file, str(model_file.relative_to(ROOT)))]
    per_stage: dict[str, list[float]] = {}
    worker, judging = [], []
    for _ in range(runs):
        start = time.perf_counter()
        collected = collect(files, settings)
        worker.append(time.perf_counter() - start)
        start = time.perf_counter()
        judge(collected, rules, settings)
        judging.append(time.perf_counter() - start)
        totals: dict[str, float] = {}
        for _, result in collected:
            for stage, seconds in (result.get("timings") or {}).items():
                totals[stage] = totals.get(stage, 0.0) + seconds
        for stage, seconds in totals.items():
            per_stage.setdefault(stage, []).append(seconds)
    return {k: statistics.median(v) for k, v in per_stage.items()}, statistics.median(worker), statistics.median(judging)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(ROOT / "fixtures" / "models" / "resnet_bn.py"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    model_file = Path(args.model).resolve()
    python = sys.executable

    start_up = wall([python, "-c", "pass"], args.runs)
    torch_import = wall([python, "-c", "import torch"], args.runs) - start_up
    timings, worker_wall, rules_time = stages(model_file, args.runs, probe=True)
    whole_static = wall([python, "-m", "gradlint", "--no-cache", "--no-probe", str(model_file)], args.runs)
    whole_probe = wall([python, "-m", "gradlint", "--no-cache", str(model_file)], args.runs)

    print(f"time split for {model_file.relative_to(ROOT) if model_file.is_relative_to(ROOT) else model_file}"
          f" (medians of {args.runs})")
    rows = [("interpreter start", start_up), ("import torch", torch_import)]
    rows += [(f"worker: {name}", timings.get(name, 0.0)) for name in ("import", "build", "trace", "analyse", "probe")]
    staged = sum(timings.values())
    rows.append(("worker: start + torch + transfer", max(worker_wall - staged, 0.0)))
    rows.append(("main process: GL1xx/GL3xx rules", rules_time))
    for label, seconds in rows:
        print(f"  {label:36} {seconds * 1e3:9.1f} ms")
    print(f"  {'whole run, --no-probe':36} {whole_static * 1e3:9.1f} ms")
    print(f"  {'whole run, with the probe':36} {whole_probe * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
