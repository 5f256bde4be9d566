"""Main-process side of the probe (no torch): run the GL3xx rules on a model's probe
measurements, and mark every static GL1xx finding on that model confirmed, refuted or
not-probed, with the numbers as evidence.

Confirmation policy: a static finding names a risk; it is *confirmed* when the probe
measured its consequence, which is a looser bar than a GL3xx finding (those flag a
model that will not train as is):

- GL101 (saturating stack): some non-head sigmoid/tanh is more than 30% saturated, or
  the backward norm (GL301's) fell by 100x or more from the largest layer to the earliest;
- GL102-GL105 (init, depth, plainness, no normalisation): the backward norm fell
  (or grew) by 100x or more, or the forward signal did;
- GL106 (vanilla RNN) and any other GL1xx: any GL3xx rule fired on the model, or the
  signals moved by 100x;
otherwise *refuted*, except GL106: its risk runs through time inside the recurrent
layer, which the probe's short sequence does not measure, so quiet numbers leave it
*not-probed* with that reason. A model the probe could not run gets *not-probed* with
the reason.

Severity of a refuted finding (``[tool.gradlint] refuted``): by default ("info") a static
finding the probe refuted is reported as info with its evidence, so it no longer fails
the run; "keep" keeps the rule's severity. Applied once in the runner, so every output
format and the language server see the same severity.
"""

from __future__ import annotations

from typing import Any, Optional

from gradlint.config import Settings
from gradlint.findings import Confirmation, Finding, Severity
from gradlint.probe.summary import ProbeSummary, build_summary
from gradlint.registry import Rule, all_rules, is_selected

CONFIRM_FACTOR = 1e-2  # a 100x change of a signal across the model
TIME_NOT_MEASURED = ("the probe measures across layers on a short sequence, not through time: "
                     "nothing it measured confirms or rules out vanishing over long sequences")
SATURATION_CONFIRM = 0.3


def _probe_rules(settings: Settings) -> list[Rule]:
    select = settings.select + settings.extend_select
    return [r for code, r in all_rules().items() if r.scope == "probe" and is_selected(code, select, settings.ignore)]


def _heads(model_result: dict) -> frozenset[int]:
    graph = model_result.get("model_graph")
    facts = getattr(graph, "facts", None)
    return frozenset(getattr(facts, "heads", ()) or ())


def evidence(summary: ProbeSummary) -> dict[str, Any]:
    """The numbers a confirmation carries (rounded, JSON-safe)."""
    found: dict[str, Any] = {}
    backward = summary.backward_ratio()
    if backward:
        found["backward_signal_ratio"] = _round(backward[0])
    forward = summary.forward_ratio()
    if forward:
        found["forward_signal_ratio"] = _round(forward[0])
    grads = [l.grad_norm for l in summary.layers if l.grad_norm]
    if len(grads) >= 2:
        found["weight_grad_ratio"] = _round(summary.layers[0].grad_norm / max(grads)) if summary.layers[0].grad_norm else 0.0
    saturated = [a.saturated for a in summary.activations if a.saturated is not None and not a.head]
    if saturated:
        found["max_saturated_fraction"] = _round(max(saturated))
    dead = [a.dead for a in summary.activations if a.dead is not None]
    if dead:
        found["max_dead_fraction"] = _round(max(dead))
    found["global_grad_norm"] = _round(summary.global_grad_norm) if summary.global_grad_norm is not None else None
    if summary.nonfinite:
        found["nonfinite"] = len(summary.nonfinite)
    return found


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else float(f"{value:.3g}")


def _signals_moved(summary: ProbeSummary) -> bool:
    backward, forward, growth = summary.backward_ratio(), summary.forward_ratio(), summary.backward_growth()
    return bool(
        (backward and backward[0] < CONFIRM_FACTOR)
        or (forward and not CONFIRM_FACTOR <= forward[0] <= 1 / CONFIRM_FACTOR)
        or (growth and growth[0] > 1 / CONFIRM_FACTOR)
        or summary.nonfinite
    )


def confirmation_for(code: str, summary: ProbeSummary, measured_codes: set[str]) -> Confirmation:
    numbers = evidence(summary)
    if code == "GL101":
        saturated = numbers.get("max_saturated_fraction") or 0.0
        backward = summary.backward_ratio()
        hit = saturated > SATURATION_CONFIRM or bool(backward and backward[0] < CONFIRM_FACTOR)
    elif code in ("GL102", "GL103", "GL104", "GL105"):
        hit = _signals_moved(summary)
    else:
        hit = bool(measured_codes) or _signals_moved(summary)
    if code == "GL106" and not hit:
        # GL106's risk runs through time inside the recurrent layer; the probe compares
        # layers over a short synthetic sequence, so quiet numbers do not refute it
        return Confirmation("not-probed", {**numbers, "reason": TIME_NOT_MEASURED})
    return Confirmation("confirmed" if hit else "refuted", numbers)


def probe_table(summary: ProbeSummary) -> dict[str, Any]:
    """The JSON ``models[].probe`` entry: run facts and the per-layer table."""
    raw = summary.raw
    # no wall-clock time: the same tree and seed must give byte-identical output
    keep = ("device", "dtype", "steps", "seed", "input", "input_source", "loss", "optimizer",
            "global_grad_norm", "grad_norm_per_step", "loss_per_step", "nonfinite", "output_activation")
    return {
        **{k: raw.get(k) for k in keep},
        "layers": [
            {"name": l.name, "type": l.type, "path": l.place.path, "line": l.place.line, "depth": l.depth,
             "grad_norm": l.grad_norm, "weight_norm": l.weight_norm, "grad_weight_ratio": l.grad_weight_ratio,
             "backward_signal": l.backward_signal, "forward_signal": l.forward_signal,
             **({"backward_norm": l.backward_norm} if l.backward_norm is not None else {}),
             **({"grad_norm_last": l.grad_norm_last} if l.grad_norm_last is not None else {})}
            for l in summary.layers
        ],
        "activations": [
            {"name": a.name, "type": a.type, "path": a.place.path, "line": a.place.line,
             "saturated": a.saturated, "dead": a.dead, "head": a.head}
            for a in summary.activations
        ],
    }


def apply_probe(model_result: dict, model_findings: list[Finding], settings: Settings) -> list[Finding]:
    """GL3xx findings for one model, and a confirmation on each of its GL1xx findings."""
    graph = model_result.get("graph") or {}
    probe = model_result.get("probe")
    static = [f for f in model_findings if f.code.startswith("GL1")]
    if not isinstance(probe, dict) or "error" in probe or not probe.get("layers"):
        if isinstance(probe, dict) and isinstance(probe.get("error"), dict):
            reason = probe["error"].get("message", "the probe failed")
        elif isinstance(probe, dict):
            reason = "the probe found no weight layer to measure"
        else:
            reason = "the probe did not run (disabled with --no-probe or in config)"
        for finding in static:
            finding.confirmation = Confirmation("not-probed", {"reason": reason})
        return []
    summary = build_summary(graph, probe, _heads(model_result))
    findings: list[Finding] = []
    for rule in _probe_rules(settings):
        for report in rule.check(summary, settings.options_for(rule.code, rule.options)):
            span = report.span
            findings.append(Finding(
                code=rule.code, name=rule.name, severity=rule.severity,
                path=str(report.extra.get("path") or summary.place.path), line=span.line, column=span.column,
                end_line=span.end_line, end_column=span.end_column, message=report.message, model=summary.model,
                # a measured finding is its own evidence
                confirmation=Confirmation("confirmed", {k: _round(v) if isinstance(v, float) else v
                                                        for k, v in report.extra.items() if k not in ("model", "path")}),
            ))
    measured = {f.code for f in findings}
    for finding in static:
        finding.confirmation = confirmation_for(finding.code, summary, measured)
    table = probe_table(summary)
    if isinstance(model_result.get("summary"), dict):
        model_result["summary"]["probe"] = table
    return findings  # the caller (model.analyze) applies suppressions to every model finding



def apply_refuted_policy(findings: list[Finding], policy: str) -> list[Finding]:
    """``findings`` with every refuted static finding lowered to info when ``policy`` is
    "info" (the default); unchanged with "keep"."""
    if policy != "info":
        return findings
    for finding in findings:
        if finding.confirmation is not None and finding.confirmation.status == "refuted":
            finding.severity = Severity.INFO
    return findings
