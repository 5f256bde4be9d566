"""The probe's picture for the terminal: a log-scale bar chart of the gradient norm by
layer (Unicode blocks, no colour). Input: a JSON ``models`` entry with its ``probe``
table; no torch. The HTML page of ``--report`` is gradlint.report.html."""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from gradlint.probe.summary import fmt

BLOCKS = " ▏▎▍▌▋▊▉█"
BAR_WIDTH = 32
MAX_ROWS = 40


def log_range(values: Sequence[Optional[float]]) -> tuple[float, float]:
    """(low, high) log10 bounds of a chart's axis over the non-zero values."""
    logs = [math.log10(v) for v in values if v]
    if not logs:
        return 0.0, 1.0
    low, high = min(logs), max(logs)
    return (low - 1.0, high) if high - low < 1.0 else (low - 0.05 * (high - low), high)


def _bar(value: Optional[float], low: float, high: float, width: int = BAR_WIDTH) -> str:
    if value is None:
        return "(not measured)".center(width)
    if value == 0:  # e.g. a layer before a zero-initialised residual branch: no bar to draw
        return "(zero gradient)".center(width)
    eighths = round((math.log10(value) - low) / (high - low) * width * 8)
    eighths = max(1, min(width * 8, eighths))
    full, part = divmod(eighths, 8)
    return ("█" * full + (BLOCKS[part] if part else "")).ljust(width)


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd, …"""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{({1: 'st', 2: 'nd', 3: 'rd'}).get(number % 10, 'th')}"


def layer_kind(layer: dict) -> tuple[str, str]:
    """What a layer is in its model, ignoring which copy: its type and its name with the
    indices dropped (``h.3.attn.c_proj`` and ``h.7.attn.c_proj`` are one kind,
    ``h.3.mlp.c_proj`` another)."""
    parts = ["".join(ch for ch in part if not ch.isdigit()) for part in str(layer.get("name") or "").split(".")]
    return str(layer.get("type", "")), ".".join(part for part in parts if part)


def _rows(layers: list[dict]) -> list[dict]:
    """Every layer, or for a long model every n-th, the last, and the first layer of each
    kind the stride would skip (a sampled chart must not hide a whole kind of layer)."""
    if len(layers) <= MAX_ROWS:
        return layers
    step = math.ceil(len(layers) / MAX_ROWS)
    picked = set(range(0, len(layers), step)) | {len(layers) - 1}
    seen = {layer_kind(layers[i]) for i in picked}
    for index, layer in enumerate(layers):
        kind = layer_kind(layer)
        if kind not in seen:
            seen.add(kind)
            picked.add(index)
    return [layers[i] for i in sorted(picked)]


def text_chart(model: dict[str, Any]) -> str:
    """The terminal chart for one JSON ``models`` entry ('' when it was not probed)."""
    probe = model.get("probe") or {}
    layers = probe.get("layers") or []
    if not layers:
        return ""
    low, high = log_range([l.get("grad_norm") for l in layers])
    rows = _rows(layers)
    names = [f"{l['name'] or '(model)'} {l.get('type', '')}".strip() for l in rows]
    width = min(max(len(n) for n in names), 36)
    title = f"gradient norm by layer (log scale, {fmt(10 ** low)} to {fmt(10 ** high)})"
    lines = [
        f"  probe: {probe.get('device')} {probe.get('dtype')}, input {probe.get('input')}, {probe.get('loss')} loss, "
        f"{probe.get('steps')} step(s); global gradient norm {fmt(probe.get('global_grad_norm'))}",
        f"  {title.ljust(width + BAR_WIDTH + 3)}  grad norm  backward signal",
    ]
    if len(rows) < len(layers):
        step = math.ceil(len(layers) / MAX_ROWS)
        lines.append(f"  ({len(rows)} of {len(layers)} layers: every {ordinal(step)}, the last, "
                     "and the first of each kind of layer)")
    for name, layer in zip(names, rows):
        short = name if len(name) <= width else "…" + name[-(width - 1):]
        lines.append(f"  {short.ljust(width)} |{_bar(layer.get('grad_norm'), low, high)}| "
                     f"{fmt(layer.get('grad_norm')).rjust(9)}  {fmt(layer.get('backward_signal')).rjust(9)}")
    return "\n".join(lines)
