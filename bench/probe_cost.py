"""What the probe costs against the training steps it runs (issue 5, item 7).

    python bench/probe_cost.py [--device cpu|cuda] [--steps 3] [--runs 5]

In one process and on one device, for a ResNet-style convnet, a transformer stack and
an LSTM language model: k plain training steps (zero_grad, forward, the same loss the
probe picks, backward, SGD step) against ``probe_model`` running k steps on the same
model with the graph the worker would give it (fx trace + extract). Both sides start
from the model and make their own input; each is warmed up once, then timed ``--runs``
times, alternating, and the medians compared. Prints the ratio probe/plain (target at
most 1.25) and the peak-memory ratio (target at most 1.3): on CUDA the allocator's
peak above what was allocated before the run; on the CPU the peak RSS above the RSS
before the run, sampled every 0.5 ms by a thread (glibc trimmed before each run).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from gradlint.probe.entry import LossMaker, probe_model  # noqa: E402
from gradlint.probe.inputs import split_specs, tensor_from_spec  # noqa: E402


class Block(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
        self.conv2, self.bn2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(out)))


class ResNet(nn.Module):
    def __init__(self, blocks: int = 8, channels: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU())
        self.blocks = nn.Sequential(*[Block(channels) for _ in range(blocks)])
        self.head = nn.Linear(channels, 10)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


class Transformer(nn.Module):
    def __init__(self, layers: int = 4, width: int = 256) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(width, 4, 4 * width, dropout=0.0, batch_first=True, norm_first=True)
            for _ in range(layers))
        self.out = nn.Linear(width, width)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.out(x)


class LSTMLM(nn.Module):
    def __init__(self, vocab: int = 5000, width: int = 256) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.lstm = nn.LSTM(width, width, num_layers=2, batch_first=True)
        self.head = nn.Linear(width, vocab)

    def forward(self, ids):
        return self.head(self.lstm(self.embed(ids))[0])


MODELS: dict[str, tuple[Callable[[], nn.Module], str]] = {
    "resnet": (ResNet, "float32[8,3,32,32]"),
    "transformer": (Transformer, "float32[8,128,256]"),
    "lstm": (LSTMLM, "int64[8,64](0,5000)"),
}


def graph_for(model: nn.Module) -> tuple[Any, Any]:
    """What the worker hands the probe: the fx graph module and the graph dict."""
    try:
        from gradlint.findings import Span
        from gradlint.model import extract
        from gradlint.model.locate import UserFiles
        from gradlint.model.trace import trace_model

        graph_module, _ = trace_model(model)
        if graph_module is None:
            return None, None
        here = str(Path(__file__).resolve())
        return graph_module, extract.from_fx(model, graph_module, UserFiles([str(Path(here).parent)]), Span(1, 1, 1, 2, here))
    except Exception as exc:  # noqa: BLE001 - the bench still runs without the worker's extraction
        print(f"  (no graph: {type(exc).__name__}: {exc})")
        return None, None


def plain_steps(model: nn.Module, spec: str, steps: int, device: torch.device) -> None:
    generator = torch.Generator().manual_seed(0)
    inputs = [tensor_from_spec(s, generator).to(device) for s in split_specs(spec)]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_maker = LossMaker(generator, model.head if hasattr(model, "head") else getattr(model, "out", None))
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss_maker(model(*inputs)).backward()
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def probe_steps(model: nn.Module, graph: tuple[Any, Any], spec: str, steps: int, device: torch.device) -> None:
    result = probe_model(model, graph[0], graph[1], {"input": spec}, {},
                         {"device": device.type, "steps": steps, "seed": 0, "time-budget": 1e9})
    if "error" in result:
        raise SystemExit(f"probe failed: {result['error']}")


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def interleaved_medians(runs: list, count: int, device) -> list[tuple[float, float]]:
    """Median seconds and peak memory of each callable, timed in turns (``count`` rounds)
    so that drift in the machine's load falls on all of them alike."""
    times: list[list[float]] = [[] for _ in runs]
    memory: list[list[int]] = [[] for _ in runs]
    for _ in range(count):
        for index, run in enumerate(runs):
            seconds, peak = measure(run, device)
            times[index].append(seconds)
            memory[index].append(peak)
    return [(statistics.median(t), statistics.median(m)) for t, m in zip(times, memory)]


def measure(run: Callable[[], None], device: torch.device) -> tuple[float, int]:
    """(seconds, peak bytes above the start) of one call."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        run()
        torch.cuda.synchronize()
        return time.perf_counter() - start, torch.cuda.max_memory_allocated() - base
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    base, peak, done = _rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.0005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return seconds, max(peak[0], _rss()) - base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--steps", type=int, default=3, help="k: training steps on each side")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: CUDA is not available here", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"probe cost, {args.steps} steps, median of {args.runs} runs, torch {torch.__version__}, {name}")
    print(f"{'model':<12} {'plain ms':>9} {'probe ms':>9} {'time ratio':>10} {'plain MiB':>9} {'probe MiB':>9} {'mem ratio':>9}")
    worst = 0.0
    for key in args.models.split(","):
        factory, spec = MODELS[key]
        torch.manual_seed(0)
        model = factory().to(device)
        graph = graph_for(model)
        plain = lambda: plain_steps(model, spec, args.steps, device)  # noqa: E731
        probed = lambda: probe_steps(model, graph, spec, args.steps, device)  # noqa: E731
        plain(), probed()  # warm-up: first-call costs on both sides
        (plain_s, plain_m), (probe_s, probe_m) = interleaved_medians([plain, probed], args.runs, device)
        ratio = probe_s / plain_s
        worst = max(worst, ratio)
        mem_ratio = probe_m / plain_m if plain_m > 0 else float("nan")
        print(f"{key:<12} {plain_s * 1e3:9.1f} {probe_s * 1e3:9.1f} {ratio:10.3f} {plain_m / 2**20:9.1f} "
              f"{probe_m / 2**20:9.1f} {mem_ratio:9.3f}")
    print(f"worst time ratio {worst:.3f} (target <= 1.25)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
