"""Pictures of a probe: a log-scale bar chart of the gradient norm by layer for the
terminal (Unicode blocks, no colour), and a self-contained HTML page (inline SVG and
tables, no external assets) for ``--report FILE.html``. Input: the JSON ``models``
entries with their ``probe`` table; no torch."""

from __future__ import annotations

import html
import math
from typing import Any, Optional, Sequence

from gradlint.probe.summary import fmt

BLOCKS = " ▏▎▍▌▋▊▉█"
BAR_WIDTH = 32
MAX_ROWS = 40


def _logs(values: Sequence[Optional[float]]) -> tuple[float, float]:
    logs = [math.log10(v) for v in values if v]
    if not logs:
        return 0.0, 1.0
    low, high = min(logs), max(logs)
    return (low - 1.0, high) if high - low < 1.0 else (low - 0.05 * (high - low), high)


def _bar(value: Optional[float], low: float, high: float, width: int = BAR_WIDTH) -> str:
    if not value:
        return " " * width
    eighths = round((math.log10(value) - low) / (high - low) * width * 8)
    eighths = max(1, min(width * 8, eighths))
    full, part = divmod(eighths, 8)
    return ("█" * full + (BLOCKS[part] if part else "")).ljust(width)


def _rows(layers: list[dict]) -> list[dict]:
    if len(layers) <= MAX_ROWS:
        return layers
    step = math.ceil(len(layers) / MAX_ROWS)
    picked = layers[::step]
    return picked if picked[-1] is layers[-1] else picked + [layers[-1]]


def text_chart(model: dict[str, Any]) -> str:
    """The terminal chart for one JSON ``models`` entry ('' when it was not probed)."""
    probe = model.get("probe") or {}
    layers = probe.get("layers") or []
    if not layers:
        return ""
    low, high = _logs([l.get("grad_norm") for l in layers])
    rows = _rows(layers)
    names = [f"{l['name'] or '(model)'} {l.get('type', '')}".strip() for l in rows]
    width = min(max(len(n) for n in names), 36)
    lines = [
        f"  probe: {probe.get('device')} {probe.get('dtype')}, input {probe.get('input')}, {probe.get('loss')} loss, "
        f"{probe.get('steps')} step(s); global gradient norm {fmt(probe.get('global_grad_norm'))}",
        f"  {'gradient norm by layer (log scale)'.ljust(width + BAR_WIDTH + 3)}  grad norm  backward signal",
    ]
    if len(rows) < len(layers):
        lines.append(f"  (every {math.ceil(len(layers) / MAX_ROWS)}th of {len(layers)} layers)")
    for name, layer in zip(names, rows):
        short = name if len(name) <= width else "…" + name[-(width - 1):]
        lines.append(f"  {short.ljust(width)} |{_bar(layer.get('grad_norm'), low, high)}| "
                     f"{fmt(layer.get('grad_norm')).rjust(9)}  {fmt(layer.get('backward_signal')).rjust(9)}")
    return "\n".join(lines)


# ----- HTML ---------------------------------------------------------------------------
_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
td:first-child,th:first-child,td.l{text-align:left}h2{margin-top:2em}.finding{font-family:monospace;font-size:13px}
.confirmed{color:#b00}.refuted{color:#070}svg text{font-size:11px}"""
SERIES = (("grad_norm", "weight-gradient norm", "#1f77b4"), ("backward_signal", "backward signal", "#d62728"),
          ("forward_signal", "forward signal", "#2ca02c"))


def svg_chart(layers: list[dict], width: int = 760, height: int = 260) -> str:
    """Log-scale bars of the gradient norm, with the backward and forward signals as lines."""
    values = [l.get(key) for l in layers for key, _, _ in SERIES]
    low, high = _logs(values)
    left, right, top, bottom = 56, 10, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(layers))

    def y(value: float) -> float:
        return top + plot_h * (1 - (math.log10(value) - low) / (high - low))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for exponent in range(math.ceil(low), math.floor(high) + 1):
        ty = y(10.0 ** exponent)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{ty + 4:.1f}" text-anchor="end">1e{exponent}</text>')
    for i, layer in enumerate(layers):
        value = layer.get("grad_norm")
        if value:
            ty = y(value)
            parts.append(f'<rect x="{left + i * step + step * 0.15:.1f}" y="{ty:.1f}" width="{step * 0.7:.1f}" '
                         f'height="{top + plot_h - ty:.1f}" fill="#1f77b4" opacity="0.6">'
                         f'<title>{html.escape(str(layer.get("name")))}: {fmt(value)}</title></rect>')
    for key, _, colour in SERIES[1:]:
        points = [f"{left + (i + 0.5) * step:.1f},{y(l[key]):.1f}" for i, l in enumerate(layers) if l.get(key)]
        if len(points) >= 2:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(points)}"/>')
    for n, (_, label, colour) in enumerate(SERIES):
        parts.append(f'<rect x="{left + n * 180}" y="{height - 16}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + n * 180 + 14}" y="{height - 7}">{label}</text>')
    parts.append(f'<text x="{left}" y="{top - 6}">layers in forward order (first → last), log scale</text></svg>')
    return "".join(parts)


def _table(rows: list[dict], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            text = fmt(value) if isinstance(value, float) else ("" if value is None else str(value))
            cells.append(f'<td{" class=l" if not isinstance(value, float) else ""}>{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def html_report(models: list[dict], findings: list[Any]) -> str:
    sections = []
    for model in models:
        probe = model.get("probe")
        title = html.escape(f"{model.get('name')} ({model.get('path')}:{model.get('line')})")
        mine = [f for f in findings if getattr(f, "model", None) == model.get("name")]
        items = "".join(
            f'<li class="finding {html.escape(getattr(f.confirmation, "status", "") or "")}">'
            f"{html.escape(f'{f.path}:{f.line}: {f.code} {f.message}')}"
            + (f" — probe: {html.escape(f.confirmation.status)}" if f.confirmation else "") + "</li>"
            for f in mine
        )
        body = f"<ul>{items}</ul>" if items else "<p>No findings.</p>"
        if probe and probe.get("layers"):
            facts = (f"{probe.get('device')} {probe.get('dtype')}, input {probe.get('input')}, {probe.get('loss')} loss, "
                     f"{probe.get('steps')} step(s), global gradient norm {fmt(probe.get('global_grad_norm'))}")
            body += (f"<p>{html.escape(facts)}</p>" + svg_chart(probe["layers"])
                     + _table(probe["layers"], ("name", "type", "line", "grad_norm", "weight_norm", "grad_weight_ratio",
                                                "backward_signal", "forward_signal"))
                     + (_table(probe["activations"], ("name", "type", "line", "saturated", "dead"))
                        if probe.get("activations") else ""))
        else:
            body += "<p>Not probed.</p>"
        sections.append(f"<h2>{title}</h2>{body}")
    content = "".join(sections) or "<p>No models were analysed.</p>"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>gradlint probe report</title>'
            f"<style>{_STYLE}</style></head><body><h1>gradlint probe report</h1>{content}</body></html>\n")


def write_report(path: Any, result: Any) -> None:
    """``--report FILE.html``: the run's models and findings as one page."""
    from pathlib import Path

    Path(path).write_text(html_report(list(result.models), list(result.findings)), encoding="utf-8")
