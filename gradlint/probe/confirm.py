"""Main-process side of the probe (no torch): run the GL3xx rules on a model's probe
measurements, and mark every static GL1xx finding on that model confirmed, refuted or
not-probed, with the numbers as evidence.

Confirmation policy: each static rule declares which measurements confirm or refute
it, with an optional ``confirm(probe, measured)`` hook in its module (contract in
``gradlint/registry.py``, helpers and the default policy in ``probe/verdicts.py``): a
rule without one is confirmed when any GL3xx rule fired on the model or the signals
moved by 100x, refuted otherwise. A model the probe could not run gets *not-probed*
with the reason.

Severity of a refuted finding (``[tool.gradlint] refuted``): by default ("info") a static
finding the probe refuted is reported as info with its evidence, so it no longer fails
the run; "keep" keeps the rule's severity. Applied once in the runner, so every output
format and the language server see the same severity.
"""

from __future__ import annotations

from typing import Any, Optional

from gradlint.apply import apply_rules
from gradlint.config import Settings
from gradlint.findings import Confirmation, Finding, Severity
from gradlint.model.graph import ModelGraph
from gradlint.probe.summary import ProbeSummary, build_summary
from gradlint.probe.verdicts import default_confirm
from gradlint.registry import Rule, all_rules, is_selected



def _probe_rules(settings: Settings) -> list[Rule]:
    select = settings.select + settings.extend_select
    return [r for code, r in all_rules().items() if r.scope == "probe" and is_selected(code, select, settings.ignore)]


def confirmation_for(code: str, summary: ProbeSummary, measured_codes: set[str]) -> Confirmation:
    """What the probe says about one static finding: the rule's own ``confirm`` hook, or
    the default policy."""
    rule = all_rules().get(code)
    confirm = rule.confirm if rule is not None and rule.confirm is not None else default_confirm
    return confirm(summary, frozenset(measured_codes))


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


def apply_probe(graph: ModelGraph, probe: Optional[dict[str, Any]], model_summary: dict[str, Any],
                model_findings: list[Finding], settings: Settings) -> list[Finding]:
    """GL3xx findings for one model, and a confirmation on each of its GL1xx findings;
    the per-layer table goes into the model's JSON entry (``model_summary``)."""
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
    summary = build_summary(graph, probe)
    # a measured finding is its own evidence (gradlint.apply confirms it with its numbers)
    findings = apply_rules(_probe_rules(settings), summary, settings, summary.place.path, summary.model)
    measured = {f.code for f in findings}
    for finding in static:
        finding.confirmation = confirmation_for(finding.code, summary, measured)
    from gradlint.probe.optimizer_checks import optimizer_findings

    findings += optimizer_findings(summary, probe, settings)  # the script's optimiser: GL402-GL405
    model_summary["probe"] = probe_table(summary)
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
