"""What ``gradlint.preflight(steps=0)`` costs against one plain forward+backward (issue 16).

    python bench/preflight_cost.py [--device cpu|cuda] [--runs 5] [--models resnet,transformer,lstm]

In one process and on one device, for the convnet, transformer stack and LSTM language
model of bench/probe_cost.py: one plain training pass (forward, the loss preflight's
probe picks, backward; gradients cleared after) against ``gradlint.preflight(model,
batch, steps=0)`` on the same batch, which traces the model, runs the model rules,
the measured forward/backward, the GL3xx/GL4xx rules, and restores everything. Each
side is warmed up once (the first preflight also pays gradlint's imports; printed
apart), then timed ``--runs`` times, alternating, and the medians compared. Prints the
time ratio preflight/plain and the peak-memory ratio (targets: at most 1.3 each),
measured as in probe_cost.py (CUDA allocator peak; on the CPU the sampled peak RSS).
``steps=1`` adds one copy of the parameters (and of the optimiser state) on top.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from probe_cost import MODELS, interleaved_medians  # noqa: E402

from gradlint.probe.entry import LossMaker  # noqa: E402
from gradlint.probe.inputs import split_specs, tensor_from_spec  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("--device cuda: CUDA is not available here", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"preflight(steps=0) cost, median of {args.runs} runs, torch {torch.__version__}, {name}")
    print(f"{'model':<12} {'plain ms':>9} {'prefl ms':>9} {'1st ms':>8} {'time ratio':>10} {'plain MiB':>9} "
          f"{'prefl MiB':>9} {'mem ratio':>9}")
    import gradlint

    worst_time = worst_memory = 0.0
    for key in args.models.split(","):
        factory, spec = MODELS[key]
        torch.manual_seed(0)
        model = factory().to(device)
        generator = torch.Generator().manual_seed(0)
        inputs = [tensor_from_spec(s, generator).to(device) for s in split_specs(spec)]
        batch = inputs[0]
        loss_maker = LossMaker(torch.Generator().manual_seed(0), getattr(model, "head", None) or getattr(model, "out", None))

        def plain() -> None:
            loss_maker(model(batch)).backward()
            for param in model.parameters():
                param.grad = None

        def checked() -> None:
            gradlint.preflight(model, batch, steps=0)

        start = time.perf_counter()
        checked()  # warm-up; the first call pays gradlint's and torch.fx's imports
        if device.type == "cuda":
            torch.cuda.synchronize()
        first = time.perf_counter() - start
        plain()
        (plain_s, plain_m), (checked_s, checked_m) = interleaved_medians([plain, checked], args.runs, device)
        ratio = checked_s / plain_s
        mem_ratio = checked_m / plain_m if plain_m > 0 else float("nan")
        worst_time = max(worst_time, ratio)
        worst_memory = max(worst_memory, mem_ratio) if mem_ratio == mem_ratio else worst_memory
        print(f"{key:<12} {plain_s * 1e3:9.1f} {checked_s * 1e3:9.1f} {first * 1e3:8.0f} {ratio:10.3f} "
              f"{plain_m / 2**20:9.1f} {checked_m / 2**20:9.1f} {mem_ratio:9.3f}")
    print(f"worst time ratio {worst_time:.3f}, worst memory ratio {worst_memory:.3f} (targets <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
