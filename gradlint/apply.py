"""One way from a rule's reports to findings, for every stage: the source and loop
rules (gradlint.lint), the model rules and the probe (gradlint.model.analyze,
gradlint.probe.confirm) and preflight (gradlint.inprocess.run) all call these, so a
finding's severity, options, place, model and evidence are decided in one place."""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional, Sequence, Union

from gradlint.config import Settings
from gradlint.findings import Confirmation, Finding, Related, Severity, Span
from gradlint.registry import Report, Rule


def round_evidence(value: Union[float, str, None]) -> Union[float, str, None]:
    """A measured float to 3 significant figures (the same tree and seed must give the
    same JSON, and no reader needs more); ints and None pass unchanged."""
    if isinstance(value, float):
        return float(f"{value:.3g}")
    return value


def is_measured(rule: Rule, report: Report) -> bool:
    """Whether a report states a measurement, and so is its own confirmation: every
    probe report; a preflight report when it says so ("measured: ..."; GL402, GL405),
    the others being facts read off the live model (requires_grad, weight decay)."""
    return rule.scope == "probe" or (rule.scope == "preflight" and report.message.startswith("measured"))


def finding_of(rule: Rule, report: Report, path: str, model: Optional[str] = None) -> Finding:
    """The finding of one report: ``path`` and ``model`` are the defaults for a report
    that names neither (a source rule's report is in the file being linted)."""
    span = report.span
    confirmation = None
    if is_measured(rule, report):
        numbers: dict[str, Any] = {name: round_evidence(value) for name, value in report.evidence.items()}
        confirmation = Confirmation("confirmed", numbers)
    return Finding(
        code=rule.code, name=rule.name, severity=rule.severity, path=report.path or path,
        line=span.line, column=span.column, end_line=span.end_line, end_column=span.end_column,
        message=report.message, fix=report.fix, confirmation=confirmation, model=report.model or model,
        related=tuple(Related(r.line, r.message, r.path or report.path or path) for r in report.related),
    )


def findings_of(rule: Rule, reports: Iterable[Report], path: str, model: Optional[str] = None) -> list[Finding]:
    return [finding_of(rule, report, path, model) for report in reports]


def apply_rules(rules: Sequence[Rule], summary: object, settings: Settings, path: str,
                model: Optional[str] = None) -> list[Finding]:
    """Every rule's predicate over one summary with the options the settings give it."""
    findings: list[Finding] = []
    for rule in rules:
        try:
            findings += findings_of(rule, rule.check(summary, settings.options_for(rule.code, rule.options)), path, model)
        except Exception as error:  # (RecursionError too) one rule failing on one file: say so there, run the rest
            if os.environ.get("GRADLINT_DEBUG"):
                raise
            findings.append(engine_finding(
                rule, Span(1, 1, 1, 1), f"{rule.code} could not finish on this file (internal error: "
                f"{type(error).__name__}: {str(error)[:120]}); the other rules ran. Please report it "
                f"(GRADLINT_DEBUG=1 shows where)", path, model, severity=Severity.INFO))
    return findings


def engine_finding(rule: Rule, span: Span, message: str, path: str, model: Optional[str] = None,
                   severity: Optional[Severity] = None) -> Finding:
    """A finding the engine itself reports under a rule's code (GL002/GL003 from a model
    the worker could not analyse, GL211's preflight form), built the same way;
    ``severity`` lowers a problem of the environment, not of the code, to a notice."""
    finding = finding_of(rule, Report(span, message, path=path, model=model), path, model)
    if severity is not None:
        finding.severity = severity
    return finding


def measured_finding(rule: Rule, report: Report, path: str, model: Optional[str] = None) -> Finding:
    """A finding of a rule's measured form (its ``measured`` hook, run by preflight): the
    measurement is its confirmation, judged by the rule's ``confirm(evidence)`` when the
    rule has one (GL215's gradient ratio), else confirmed."""
    finding = finding_of(rule, report, path, model)
    evidence: dict[str, Any] = {name: round_evidence(value) for name, value in report.evidence.items()}
    finding.confirmation = rule.confirm(evidence) if rule.confirm is not None else Confirmation("confirmed", evidence)
    return finding
