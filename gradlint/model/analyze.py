"""What the runner calls: discover the models of a run, analyse them in the worker, and
turn each result into findings (GL1xx from the rules, GL002/GL003 from failures) and a
JSON ``models`` entry. Never imports torch or user code: that is the worker's job.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Sequence

from gradlint.apply import apply_rules, engine_finding
from gradlint.config import Settings
from gradlint.findings import Finding, Severity, Span
from gradlint.lint import filter_findings
from gradlint.model import environment
from gradlint.model.discover import Candidate, discover_candidates
from gradlint.model.examples import with_batch
from gradlint.model.graph import ModelGraph
from gradlint.model.messages import Analysed, Failed, ModelResult, NeedsArguments, NoTorch, Skipped
from gradlint.model.outcome import LoadFailure, ModelOutcome, ProbeFailure
from gradlint.model.pool import run_workers
from gradlint.registry import Rule, all_rules, is_selected
from gradlint.source.index import FileIndex, decode_source
from gradlint.source.unit import SourceUnit

MODEL_SCOPES = ("model", "probe", "preflight")  # preflight: GL402-GL405 on the script's optimiser
NOT_ANALYSED = "not analysed"


def model_notices(models: Sequence[dict[str, Any]]) -> list[str]:
    """One line for the models the environment could not analyse (no torch), or none."""
    # only torch missing: a missing package of the project's has its own GL002 notice, naming it
    skipped = [m for m in models if m.get("status") == NOT_ANALYSED
               and str(m.get("reason", "")).startswith("torch is not installed")]
    if not skipped:
        return []
    return [f"{skipped[0].get('reason')}: {len(skipped)} model(s) not analysed, only the source rules ran; "
            "install torch in this environment for model analysis and the probe, or pass --no-exec to skip models"]


def wants_models(rules: Sequence[Rule]) -> bool:
    return any(rule.scope in MODEL_SCOPES for rule in rules)


def _candidate_span(candidate: Candidate) -> Span:
    return Span(candidate.line, candidate.column, candidate.line, candidate.column + len(candidate.callable))


def _outcome(candidate: Candidate, **facts: Any) -> ModelOutcome:
    return ModelOutcome(name=candidate.name, path=candidate.shown, span=_candidate_span(candidate),
                        entry_kind=candidate.kind, entry=candidate.callable, **facts)


def _load_failure(result: Failed, others: Sequence[Candidate] = (), same_as: Optional[Candidate] = None) -> LoadFailure:
    return LoadFailure(stage=result.stage, reason=result.reason, seconds=float(result.seconds), timeout=bool(result.timeout),
                       environment=environment.is_environment(result.reason),
                       others=tuple(c.name for c in others), same_as=same_as.name if same_as else None)


def _outcome_findings(outcome: ModelOutcome, settings: Settings) -> list[Finding]:
    """The findings of the rules about the analysis itself (GL002, GL003). They run
    whatever the selection (a run selecting only GL1 still says which model it could
    not analyse), unless ignored by name (``--ignore GL002``, as GL002's hint says)."""
    # a failure of this machine, not of the code, is a notice (README)
    environment_only = outcome.load_failure is not None and outcome.load_failure.environment
    findings = []
    for rule in all_rules().values():
        if rule.scope != "model" or rule.reads != "outcome" or not is_selected(rule.code, ["ALL"], settings.ignore):
            continue
        for report in rule.check(outcome, settings.options_for(rule.code, rule.options)):
            findings.append(engine_finding(rule, report.span, report.message, outcome.path, outcome.name,
                                           Severity.INFO if environment_only else None))
    return findings


def analyze_models(files: Sequence[tuple[Path, str]], rules: Sequence[Rule], settings: Settings,
                   cli_models: Sequence[str] = (), cli_input: Any = None,
                   jobs: Optional[int] = None, index: Optional[FileIndex] = None) -> tuple[list[Finding], list[dict[str, Any]]]:
    """Findings and JSON ``models`` entries for every model of the run (unsuppressed);
    ``index``: the run's files as already read (for the cache key), else read here."""
    findings, models = judge(collect(files, settings, cli_models, cli_input, jobs, index), rules, settings)
    return merge_across_models(findings), models


def merge_across_models(findings: list[Finding]) -> list[Finding]:
    """One finding per cause: the same rule on the same line for several models (a helper
    block shared by a model zoo's 26 variants) is reported once, naming the models."""
    groups: dict[tuple, list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.code, finding.path, finding.line, finding.column), []).append(finding)
    merged = []
    for group in groups.values():
        first = group[0]
        models = list(dict.fromkeys(f.model for f in group if f.model))
        if len(models) > 1:
            listed = ", ".join(f"'{m}'" for m in models[:3]) + (f" and {len(models) - 3} more" if len(models) > 3 else "")
            first.message += f" (in {len(models)} models: {listed})"
        merged.append(first)
    return merged


def collect(files: Sequence[tuple[Path, str]], settings: Settings, cli_models: Sequence[str] = (),
            cli_input: Any = None, jobs: Optional[int] = None,
            index: Optional[FileIndex] = None) -> list[tuple[Candidate, ModelResult]]:
    """Every model candidate of the run with the worker's result for it; the model files
    spread over up to ``jobs`` worker processes (None: the cores)."""
    index = index if index is not None else FileIndex(settings.root)
    candidates = discover_candidates(files, settings.models, cli_models, cli_input, settings.root, index)
    batch = int(settings.probe.get("batch-size", 8))
    for candidate in candidates:
        if candidate.example_input and isinstance(candidate.input, str):
            candidate.input = with_batch(candidate.input, batch)
    unbuildable: list[tuple[Candidate, ModelResult]] = [(c, NeedsArguments()) for c in candidates if c.needs]
    candidates = [c for c in candidates if not c.needs]
    if not candidates:
        return unbuildable
    job = {"root": str(settings.root.resolve()), "probe": dict(settings.probe), "memory_limit": settings.memory_limit}
    per_file: dict[str, int] = {}
    for candidate in candidates:  # a zoo's file shares the probe's parameter budget (model/budget.py)
        per_file[candidate.file] = per_file.get(candidate.file, 0) + 1
    sent = [{**c.to_dict(), "models_in_file": per_file[c.file]} for c in candidates]
    if settings.probe.get("enabled"):
        from gradlint.probe.optimizer_source import optimizers_for

        # which optimiser a --probe-steps run uses, read statically from the run's files
        specs = optimizers_for(candidates, files, settings.probe, index)
        sent = [{**item, "optimizer": specs[item["index"]]} for item in sent]
    results = run_workers(sent, job, float(settings.timeout), jobs)
    missing = Failed("start", "no result")
    collected = [(c, results.get(c.index, missing)) for c in candidates] + unbuildable
    return sorted(collected, key=lambda item: item[0].index)


def judge(collected: Sequence[tuple[Candidate, ModelResult]], rules: Sequence[Rule],
          settings: Settings) -> tuple[list[Finding], list[dict[str, Any]]]:
    """The rules over the worker's results: findings and JSON ``models`` entries."""
    candidates = [c for c, _ in collected]
    results = {c.index: r for c, r in collected}
    findings: list[Finding] = []
    models: list[dict[str, Any]] = []
    # no torch is a fact about this environment, not about the user's code: no finding,
    # a "not analysed" models entry each, and one notice for the run (model_notices)
    for candidate in candidates:
        no_torch = results.get(candidate.index)
        if isinstance(no_torch, NoTorch):
            models.append({"name": candidate.name, "path": candidate.shown, "line": candidate.line,
                           "status": NOT_ANALYSED, "reason": f"torch is not installed here ({no_torch.reason})"})
    used_inside = {key for r in results.values() if isinstance(r, Analysed) for key in r.graph.get("submodule_classes", ())}
    model_rules = [rule for rule in rules if rule.scope == "model" and rule.reads != "outcome"]
    same_import_failure = _same_import_failure(candidates, results)
    missing_packages = environment.missing_packages(candidates, results, settings.root)
    findings.extend(environment.package_notices(missing_packages))
    for candidate in candidates:
        result = results[candidate.index]
        if isinstance(result, NoTorch):
            continue
        if candidate.kind == "class" and f"{candidate.file}::{candidate.callable}" in used_inside:
            continue  # a block of another model of this run: reported with its root
        if isinstance(result, (Skipped, NeedsArguments)):
            models.append(environment.not_built_entry(candidate, result, settings.root))
            continue
        if isinstance(result, Failed) and candidate.index in missing_packages.get("indices", {}):
            models.append({"name": candidate.name, "path": candidate.shown, "line": candidate.line,
                           "status": NOT_ANALYSED, "reason": result.reason})
            continue
        if isinstance(result, Failed):
            group = same_import_failure.get(candidate.file)
            first = group is None or group[0] is candidate
            failure = _load_failure(result, (group or [])[1:] if first else (), None if first or group is None else group[0])
            findings.extend(_outcome_findings(_outcome(candidate, load_failure=failure), settings))
            models.append({"name": candidate.name, "path": candidate.shown, "line": candidate.line,
                           "status": "failed", "error": result.reason})
            continue
        model_findings, summary = _model_findings(candidate, result, model_rules, settings)
        findings.extend(model_findings)
        models.append(summary)
    return findings, models


def _same_import_failure(candidates: Sequence[Candidate], results: dict[int, ModelResult]) -> dict[str, list[Candidate]]:
    """Files whose every model failed to import for one and the same reason: one GL002
    for the file (a missing dependency would otherwise repeat for each of its models)."""
    by_file: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_file.setdefault(candidate.file, []).append(candidate)
    groups = {}
    for file, group in by_file.items():
        reasons = {(r.stage, r.reason) if isinstance(r, Failed) else None for r in (results[c.index] for c in group)}
        only = next(iter(reasons))
        if len(group) > 1 and len(reasons) == 1 and only is not None and only[0] == "import":
            groups[file] = group
    return groups


def _model_findings(candidate: Candidate, result: Analysed, model_rules: Sequence[Rule],
                    settings: Settings) -> tuple[list[Finding], dict[str, Any]]:
    graph = ModelGraph({**result.graph, "shown": candidate.shown}, runs=[spec for rule in model_rules for spec in rule.runs])
    findings = apply_rules(model_rules, graph, settings, candidate.shown, candidate.name)
    error = result.probe_error
    probe_failure = None
    if error is not None:
        probe_failure = ProbeFailure(kind=error.kind, message=error.message,
                                     seconds=float(result.timings.get("probe", 0.0)))
    findings.extend(_outcome_findings(_outcome(candidate, probe_failure=probe_failure, recorded=graph.traced,
                                               trace_note=graph.trace_note), settings))
    findings = _dedupe(findings)
    summary = graph.summary()
    # no wall-clock numbers by default: the same tree and seed must give byte-identical JSON
    summary.update({"status": "analysed"})
    if os.environ.get("GRADLINT_COST") == "1":  # per-model time and memory, for budgets (README)
        summary["cost"] = {"seconds": round(result.seconds, 2),
                           "stages": {k: round(float(v), 2) for k, v in result.timings.items()},
                           **result.memory}
    try:
        from gradlint.probe.confirm import apply_probe
    except ImportError:
        return findings, summary
    extra = apply_probe(graph, result.probe, summary, findings, settings)
    return findings + list(extra), summary


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Layers made in one loop share a line: one finding per rule and line."""
    seen: set[tuple] = set()
    kept = []
    for finding in findings:
        key = (finding.code, finding.path, finding.line, finding.model)
        if key not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def suppress(findings: list[Finding], settings: Settings) -> list[Finding]:
    """Inline ``# noqa`` on the reported line and per-file ignores, as for source rules."""
    kept: list[Finding] = []
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    for path, group in by_path.items():
        try:
            text = decode_source(Path(path).read_bytes())[0]  # as the linter decodes it
        except OSError:
            text = ""
        kept.extend(filter_findings(group, SourceUnit(path, text), settings))
    return kept
