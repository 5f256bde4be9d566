"""``--report FILE.html``: one self-contained page (inline SVG and CSS, no external
assets) with what the run found: a summary (models, their status, findings by severity
and by what the probe said), the command, version and date, a table of contents, and
per model its findings, a labelled log-scale chart and the per-layer tables. Input: the
run's JSON ``models`` entries, findings and notices; no torch."""

from __future__ import annotations

import html
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from gradlint import __version__
from gradlint.probe.chart import log_range
from gradlint.probe.summary import fmt

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th,td.l{text-align:left}h2{margin-top:2em;border-top:1px solid #ddd;padding-top:1em}
.finding{font-family:monospace;font-size:13px}.meta{color:#555;font-size:13px}.notice{background:#fff4d6;padding:.5em 1em}
.confirmed{color:#b00}.refuted{color:#070}.not-probed{color:#555}.swatch{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em}
svg text{font-size:11px}nav ol{columns:2}"""
SERIES = (("grad_norm", "weight-gradient norm (bars)", "#1f77b4"), ("backward_signal", "backward signal", "#d62728"),
          ("forward_signal", "forward signal", "#2ca02c"))
STATUS_COLOURS = (("confirmed", "confirmed by the probe", "#b00"), ("refuted", "refuted by the probe", "#070"),
                  ("not-probed", "neither: not probed (static only)", "#555"))
LAYER_COLUMNS = ("name", "type", "line", "calls", "grad_norm", "weight_norm", "grad_weight_ratio",
                 "backward_signal", "forward_signal")
ACTIVATION_COLUMNS = ("name", "type", "line", "calls", "saturated", "dead")
_MEASURES = {"grad_norm", "weight_norm", "grad_weight_ratio", "backward_signal", "forward_signal", "saturated", "dead"}


def svg_chart(layers: list[dict], width: int = 760, height: int = 300) -> str:
    """Log-scale bars of the gradient norm, the backward and forward signals as lines,
    with axis labels and a legend."""
    values = [l.get(key) for l in layers for key, _, _ in SERIES]
    low, high = log_range(values)
    left, right, top, bottom = 70, 10, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(layers))

    def y(value: float) -> float:
        return top + plot_h * (1 - (math.log10(value) - low) / (high - low))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="gradient norm by layer, log scale">']
    for exponent in range(math.ceil(low), math.floor(high) + 1):
        ty = y(10.0 ** exponent)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#eee"/>'
                     f'<text x="{left - 4}" y="{ty + 4:.1f}" text-anchor="end">1e{exponent}</text>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#999"/>'
                 f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#999"/>')
    for i, layer in enumerate(layers):
        value = layer.get("grad_norm")
        if value:
            ty = y(value)
            parts.append(f'<rect x="{left + i * step + step * 0.15:.1f}" y="{ty:.1f}" width="{step * 0.7:.1f}" '
                         f'height="{top + plot_h - ty:.1f}" fill="{SERIES[0][2]}" opacity="0.6">'
                         f'<title>{html.escape(str(layer.get("name")))}: {fmt(value)}</title></rect>')
    for key, _, colour in SERIES[1:]:
        points = [f"{left + (i + 0.5) * step:.1f},{y(l[key]):.1f}" for i, l in enumerate(layers) if l.get(key)]
        if len(points) >= 2:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(points)}"/>')
    for n, (_, label, colour) in enumerate(SERIES):  # legend above the plot
        parts.append(f'<rect x="{left + n * 200}" y="8" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + n * 200 + 14}" y="17">{label}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 10}" text-anchor="middle">'
                 f'weight layers in forward order (first → last, {len(layers)})</text>')
    parts.append(f'<text transform="translate(14,{top + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle">'
                 f'norm (log scale, {fmt(10 ** low)} to {fmt(10 ** high)})</text></svg>')
    return "".join(parts)


def merge_calls(rows: Iterable[dict]) -> list[dict]:
    """One row per layer: a layer called several times (a ReLU reused in every block)
    is shown once with its call count and, per measure, its worst (largest) value."""
    merged: dict[tuple, dict] = {}
    for row in rows:
        key = (row.get("name"), row.get("type"), row.get("path"), row.get("line"))
        if key not in merged:
            merged[key] = {**row, "calls": 1}
            continue
        kept = merged[key]
        kept["calls"] += 1
        for column in _MEASURES & set(row):
            if isinstance(row[column], (int, float)) and (kept.get(column) is None or row[column] > kept[column]):
                kept[column] = row[column]
    return list(merged.values())


def table(rows: list[dict], columns: Sequence[str]) -> str:
    """An HTML table without the columns that are empty in every row (no "saturated"
    column for a ReLU-only model, no "calls" column when each layer ran once)."""
    shown = [c for c in columns if any(row.get(c) is not None and not (c == "calls" and row.get(c) == 1) for row in rows)]
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in shown)
    body = []
    for row in rows:
        cells = []
        for c in shown:
            value = row.get(c)
            text = fmt(value) if isinstance(value, float) else ("" if value is None else str(value))
            cells.append(f'<td{"" if isinstance(value, (int, float)) else " class=l"}>{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _status(finding: Any) -> str:
    confirmation = getattr(finding, "confirmation", None)
    return getattr(confirmation, "status", None) or "not-probed"


def _model_status(model: dict) -> str:
    if model.get("status") == "failed":
        return f"not loaded: {model.get('error') or 'see GL002'}"
    if model.get("status") == "not analysed":
        return f"not analysed: {model.get('reason', '')}"
    probe = model.get("probe") or {}
    return "analysed and probed" if probe.get("layers") else "analysed, not probed"


def _anchor(index: int) -> str:
    return f"model-{index + 1}"


def _summary(models: list[dict], findings: list[Any], notices: Sequence[str]) -> str:
    severities = {s: sum(1 for f in findings if f.severity.value == s) for s in ("error", "warning", "info")}
    statuses = {s: sum(1 for f in findings if _status(f) == s) for s, _, _ in STATUS_COLOURS}
    probed = sum(1 for m in models if (m.get("probe") or {}).get("layers"))
    rows = [
        ("models", f"{len(models)} ({probed} probed)"),
        ("findings", f"{len(findings)}: " + ", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}"
                                                  for s, n in severities.items())),
        ("what the probe said", ", ".join(f"{n} {s}" for s, n in statuses.items())),
    ]
    parts = ["<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td class=l>{html.escape(v)}</td></tr>" for k, v in rows)
             + "</table>"]
    parts += [f'<p class="notice">{html.escape(notice)}</p>' for notice in notices]
    legend = "".join(f'<span class="swatch" style="background:{colour}"></span>{html.escape(label)}'
                     for _, label, colour in STATUS_COLOURS)
    parts.append(f'<p class="meta">Colours of findings:{legend}</p>')
    return "".join(parts)


def _contents(models: list[dict], findings: list[Any]) -> str:
    items = []
    for index, model in enumerate(models):
        count = sum(1 for f in findings if getattr(f, "model", None) == model.get("name"))
        items.append(f'<li><a href="#{_anchor(index)}">{html.escape(str(model.get("name")))}</a> '
                     f'— {count} finding{"s" if count != 1 else ""}, {html.escape(_model_status(model))}</li>')
    return f"<nav><h2>Contents</h2><ol>{''.join(items)}</ol></nav>" if items else ""


def _section(index: int, model: dict, findings: list[Any]) -> str:
    probe = model.get("probe") or {}
    title = html.escape(f"{model.get('name')} ({model.get('path')}:{model.get('line')})")
    mine = [f for f in findings if getattr(f, "model", None) == model.get("name")]
    items = "".join(
        f'<li class="finding {_status(f)}">{html.escape(f"{f.path}:{f.line}: {f.code} ({f.severity.value}) {f.message}")}'
        f" — probe: {html.escape(_status(f))}</li>"
        for f in mine
    )
    body = f"<p>{html.escape(_model_status(model))}.</p>" + (f"<ul>{items}</ul>" if items else "<p>No findings.</p>")
    if probe.get("layers"):
        facts = (f"{probe.get('device')} {probe.get('dtype')}, input {probe.get('input')}, {probe.get('loss')} loss, "
                 f"{probe.get('steps')} step(s), global gradient norm {fmt(probe.get('global_grad_norm'))}")
        activations = merge_calls(probe.get("activations") or [])
        measured = [a for a in activations if a.get("saturated") is not None or a.get("dead") is not None]
        skipped = len(activations) - len(measured)
        body += (f"<p>{html.escape(facts)}</p>" + svg_chart(probe["layers"])
                 + "<h3>Weight layers</h3>" + table(merge_calls(probe["layers"]), LAYER_COLUMNS))
        if measured:
            body += "<h3>Activations</h3>" + table(measured, ACTIVATION_COLUMNS)
        if skipped:
            body += (f'<p class="meta">{skipped} activation{"s" if skipped != 1 else ""} (e.g. GELU) neither saturate '
                     "nor die as sigmoid/tanh and ReLU do: not listed.</p>")
    return f'<h2 id="{_anchor(index)}">{title}</h2>{body}'


def _other_findings(findings: list[Any]) -> str:
    """Findings of no model (training code, syntax errors): listed after the models."""
    rest = [f for f in findings if getattr(f, "model", None) is None]
    if not rest:
        return ""
    items = "".join(f'<li class="finding">{html.escape(f"{f.path}:{f.line}: {f.code} ({f.severity.value}) {f.message}")}</li>'
                    for f in rest)
    return f'<h2 id="other">Training code and other findings</h2><ul>{items}</ul>'


def html_report(models: list[dict], findings: list[Any], notices: Sequence[str] = (), command: Optional[str] = None,
                date: Optional[str] = None) -> str:
    date = date or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"gradlint {__version__}, {date}" + (f" — <code>{html.escape(command)}</code>" if command else "")
    if models:
        content = _contents(models, findings) + "".join(_section(i, m, findings) for i, m in enumerate(models))
        content += _other_findings(findings)
    elif notices:
        content = "<p>No model was analysed: see the notice above.</p>"
    else:
        content = "<p>No model was found in the given paths (name one with --model FILE:CALLABLE or a " \
                  "[[tool.gradlint.models]] entry).</p>"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>gradlint probe report</title>'
            f"<style>{_STYLE}</style></head><body><h1>gradlint probe report</h1><p class=\"meta\">{meta}</p>"
            f"{_summary(models, findings, notices)}{content}</body></html>\n")


def write_report(path: Any, result: Any, command: Optional[str] = None) -> None:
    """``--report FILE.html``: the run's models, findings and notices as one page."""
    page = html_report(list(result.models), list(result.findings), list(getattr(result, "notices", [])), command)
    Path(path).write_text(page, encoding="utf-8")
