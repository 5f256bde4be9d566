"""Main-process side (no torch): the preflight rules (scope "preflight": GL402-GL405) on
the training script's optimiser as the CLI probe rebuilt and measured it
(``probe["optimizer_facts"]``, :mod:`gradlint.probe.optimizer_facts`).

The facts become the same :class:`~gradlint.inprocess.facts.PreflightSummary` that
``gradlint.preflight`` builds from the real objects, so each rule is one predicate for
both. Findings point at the script's optimiser construction or at the line that creates
the module, as the worker recorded them; a place outside the project's files is never
used (the model's class statement instead).
"""

from __future__ import annotations

from typing import Any, Optional

from gradlint.config import Settings
from gradlint.apply import findings_of
from gradlint.findings import Finding, Span
from gradlint.inprocess.facts import GroupFact, LayerFact, ParamFact, PreflightSummary
from gradlint.probe.summary import ProbeSummary, entry_place
from gradlint.registry import all_rules, is_selected


def preflight_summary(facts: dict[str, Any], model: str, place: Span) -> PreflightSummary:
    """The preflight rules' summary from the worker's ``optimizer_facts``."""
    params = [ParamFact(
        name=str(p.get("name")), module=str(p.get("module", "")), module_type=str(p.get("type", "")),
        kind=str(p.get("kind", "other")), numel=int(p.get("numel") or 0), trainable=bool(p.get("trainable")),
        got_grad=p.get("got_grad"), group=p.get("group"), changed=p.get("changed"), place=entry_place(p, place),
    ) for p in facts.get("params") or []]
    # lr 0 under a scheduler of the script: the scheduler sets the rate (GL405's warm-up exemption)
    groups = [GroupFact(index=int(g["index"]), lr=g.get("lr"), weight_decay=float(g.get("weight_decay") or 0.0),
                        warmup_from_zero=bool(g.get("scheduled")) and g.get("lr") == 0)
              for g in facts.get("groups") or []]
    layers = [LayerFact(str(l.get("name")), str(l.get("type")), bool(l.get("trainable")), int(l.get("numel") or 0),
                        entry_place(l, place)) for l in facts.get("layers") or []]
    span = facts.get("span") or []
    optimizer_place: Optional[Span] = None
    if facts.get("shown") and len(span) == 4:
        line, column, end_line, end_column = (int(v) for v in span)
        optimizer_place = Span(line, column, end_line, end_column, str(facts["shown"]))
    return PreflightSummary(model=model, place=place, params=params, groups=groups, layers=layers,
                            optimizer=facts.get("optimizer"), optimizer_place=optimizer_place,
                            steps=int(facts.get("steps") or 0))


def optimizer_findings(summary: ProbeSummary, probe: dict[str, Any], settings: Settings) -> list[Finding]:
    """GL402-GL405 on one model's script optimiser; none without ``optimizer_facts``."""
    facts = probe.get("optimizer_facts")
    if not isinstance(facts, dict):
        return []
    preflight = preflight_summary(facts, summary.model, summary.place)
    select = settings.select + settings.extend_select
    found: list[Finding] = []
    for code, rule in all_rules().items():
        if rule.scope != "preflight" or not is_selected(code, select, settings.ignore):
            continue
        if code == "GL404" and facts.get("model_in_file"):
            continue  # the model's class is in the optimiser's file: the static pass reports it (lint.py)
        found += findings_of(rule, rule.check(preflight, settings.options_for(code, rule.options)),
                             summary.place.path, summary.model)
    return found
