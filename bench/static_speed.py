"""Static-pass speed on real code: gradlint --no-exec against libcst's parse and TorchFix.

    python bench/static_speed.py [--runs 3] [--no-torchfix]

Downloads a pinned corpus once (the source files of the timm wheel) into a cache
folder outside the repository ($GRADLINT_BENCH_CACHE, default ~/.cache/gradlint-bench),
then times whole processes, in one run:

  (a) libcst.parse_module of every file (the floor the issue sets),
  (b) gradlint --no-exec --no-cache on the corpus, with --jobs 1 and with all cores,
  (c) TorchFix on the same files (installed into a cache venv; skipped if that fails),

and prints files/s, lines/s, peak memory (RSS of the measured process) and the ratios
b/a and c/b. It also checks that --jobs N gives output identical to --jobs 1, and
times start-up: `gradlint --no-exec train.py` beside `python -c "import libcst"`.
A second corpus, "loops", is the bundled training scripts copied 20 times: every file
there holds a training loop, so nothing is skipped by the cheap pre-check.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("GRADLINT_BENCH_CACHE", Path.home() / ".cache" / "gradlint-bench"))
TIMM = "timm==1.0.31"
PARSE_ALL = """
import sys, libcst
for name in open(sys.argv[1]).read().splitlines():
    try:
        libcst.parse_module(open(name, "rb").read())
    except Exception:
        pass
"""


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "-q", *args], check=True, stderr=subprocess.DEVNULL)


def timm_corpus() -> Path:
    target = CACHE / "timm-1.0.31"
    if not target.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        pip("download", "--no-deps", TIMM, "-d", str(CACHE))
        wheel = next(CACHE.glob("timm-1.0.31-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.endswith(".py"):
                    archive.extract(name, target)
    return target


def loops_corpus(work: Path) -> Path:
    target = work / "loops"
    scripts = sorted((ROOT / "fixtures").rglob("*.py"))
    for copy in range(20):
        for script in scripts:
            destination = target / f"c{copy}" / script.relative_to(ROOT / "fixtures")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(script, destination)
    return target


def torchfix_python() -> str | None:
    venv = CACHE / "torchfix-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "-q", "install", "torchfix==0.7.0"], check=True,
                           stderr=subprocess.DEVNULL)
        except subprocess.CalledProcessError:
            shutil.rmtree(venv, ignore_errors=True)
            return None
    return str(python)


def measure(command: list[str], cwd: Path | None = None) -> tuple[float, float, bytes]:
    """Wall seconds, peak RSS in MiB of the process, and its stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = 0
        out.seek(0)
        return elapsed, usage.ru_maxrss / 1024, out.read()


def best_of(runs: int, command: list[str], cwd: Path | None = None) -> tuple[float, float, bytes]:
    results = [measure(command, cwd) for _ in range(runs)]
    return min(results, key=lambda r: r[0])


def files_and_lines(corpus: Path) -> tuple[list[Path], int]:
    files = sorted(corpus.rglob("*.py"))
    return files, sum(p.read_bytes().count(b"\n") for p in files)


def bench_corpus(name: str, corpus: Path, runs: int, torchfix: str | None, work: Path) -> dict:
    files, lines = files_and_lines(corpus)
    if not files:
        print(f"\n== corpus {name}: empty, skipped ==")
        return {}
    listing = work / f"{name}.txt"
    listing.write_text("\n".join(str(p) for p in files))
    gradlint = [sys.executable, "-m", "gradlint", "--no-exec", "--no-cache", "--exit-zero",
                "--output-format", "json"]
    rows = {}
    rows["a  libcst parse only"] = best_of(runs, [sys.executable, "-c", PARSE_ALL, str(listing)])
    rows["b  gradlint --jobs 1"] = best_of(runs, gradlint + ["--jobs", "1", str(corpus)])
    cores = os.cpu_count() or 1
    rows[f"b' gradlint --jobs {cores}"] = best_of(runs, gradlint + ["--jobs", str(cores), str(corpus)])
    if torchfix:
        rows["c  TorchFix"] = best_of(1, [torchfix, "-m", "torchfix", "--select", "ALL", str(corpus)])
    print(f"\n== corpus {name}: {len(files)} files, {lines} lines ==")
    print(f"{'':24} {'seconds':>8} {'files/s':>9} {'lines/s':>10} {'peak MiB':>9}")
    for label, (seconds, peak, _) in rows.items():
        print(f"{label:24} {seconds:8.3f} {len(files) / seconds:9.0f} {lines / seconds:10.0f} {peak:9.1f}")
    a = rows["a  libcst parse only"][0]
    b = rows["b  gradlint --jobs 1"][0]
    print(f"b/a = {b / a:.3f}   (target <= 1.5)")
    if torchfix:
        print(f"c/b = {rows['c  TorchFix'][0] / b:.1f}   (target >= 10)")
    one = json.loads(rows["b  gradlint --jobs 1"][2])["findings"]
    many = json.loads(rows[f"b' gradlint --jobs {cores}"][2])["findings"]
    print(f"--jobs {cores} output identical to --jobs 1: {one == many} ({len(one)} findings)")
    return {"b/a": b / a, "identical": one == many}


def bench_startup(runs: int, work: Path) -> None:
    script = ROOT / "fixtures" / "train"
    candidates = sorted(script.glob("*.py")) if script.exists() else []
    train = candidates[0] if candidates else work / "train.py"
    if not candidates:
        train.write_text("for x in loader:\n    model(x).sum().backward()\n    opt.step()\n")

    def median(command: list[str]) -> float:
        return statistics.median(measure(command)[0] for _ in range(runs))

    print("\n== start-up, one training script, whole process (median) ==")
    print(f"python -c pass                {median([sys.executable, '-c', 'pass']):.3f} s")
    print(f"python -c 'import libcst'     {median([sys.executable, '-c', 'import libcst']):.3f} s")
    gradlint = median([sys.executable, "-m", "gradlint", "--no-exec", "--exit-zero", str(train)])
    print(f"gradlint --no-exec {train.name:12} {gradlint:.3f} s   (target <= 0.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="best of N for each timing")
    parser.add_argument("--no-torchfix", action="store_true", help="skip TorchFix (c)")
    args = parser.parse_args()
    torchfix = None if args.no_torchfix else torchfix_python()
    if not args.no_torchfix and torchfix is None:
        print("TorchFix could not be installed; (c) skipped")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        bench_corpus("timm-1.0.31", timm_corpus(), args.runs, torchfix, work)
        bench_corpus("loops", loops_corpus(work), args.runs, torchfix, work)
        bench_startup(max(args.runs, 10), work)


if __name__ == "__main__":
    main()
