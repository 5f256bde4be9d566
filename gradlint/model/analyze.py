"""What the runner calls: discover the models of a run, analyse them in the worker, and
turn each result into findings (GL1xx from the rules, GL002/GL003 from failures) and a
JSON ``models`` entry. Never imports torch or user code: that is the worker's job.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Sequence

from gradlint.config import Settings
from gradlint.findings import Finding, Severity
from gradlint.lint import filter_findings
from gradlint.model import environment
from gradlint.model.discover import Candidate, discover_candidates
from gradlint.model.examples import with_batch
from gradlint.model.graph import ModelGraph
from gradlint.model.pool import run_workers
from gradlint.registry import Report, Rule, Span, all_rules
from gradlint.source.index import FileIndex, decode_source
from gradlint.source.unit import SourceUnit

MODEL_SCOPES = ("model", "probe")
_STAGE_WORDS = {
    "import": "imported", "build": "built", "trace": "traced", "analyse": "analysed",
    "probe": "probed", "start": "loaded",
}


NOT_ANALYSED = "not analysed"


def model_notices(models: Sequence[dict[str, Any]]) -> list[str]:
    """One line for the models the environment could not analyse (no torch), or none."""
    skipped = [m for m in models if m.get("status") == NOT_ANALYSED]
    if not skipped:
        return []
    return [f"{skipped[0].get('reason')}: {len(skipped)} model(s) not analysed, only the source rules ran; "
            "install torch in this environment for model analysis and the probe, or pass --no-exec to skip models"]


def wants_models(rules: Sequence[Rule]) -> bool:
    return any(rule.scope in MODEL_SCOPES for rule in rules)


def _shown(file: str) -> str:
    try:
        return Path(file).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(file).as_posix()


def _finding(code: str, path: str, span: Span, message: str, model: Optional[str]) -> Finding:
    rule = all_rules()[code]
    return Finding(code=rule.code, name=rule.name, severity=rule.severity, path=path, line=span.line,
                   column=span.column, end_line=span.end_line, end_column=span.end_column,
                   message=message, model=model)


def _candidate_span(candidate: Candidate) -> Span:
    return Span(candidate.line, candidate.column, candidate.line, candidate.column + len(candidate.callable))


def _failure_message(candidate: Candidate, result: dict[str, Any], others: Sequence[Candidate] = ()) -> str:
    stage = result.get("stage", "import")
    seconds = float(result.get("seconds", 0.0))
    if others:  # the same import failure for every model of the file: said once
        names = [f"'{c.name}'" for c in (candidate, *others)]
        listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        subject = f"{len(names)} models ({listed})"
    else:
        subject = f"model '{candidate.name}'"
    message = f"{subject} could not be {_STAGE_WORDS.get(stage, stage)}: {result.get('reason', 'unknown error')}"
    if not result.get("timeout"):  # a time-out's reason already says how long
        message += f" ({_duration(seconds)})"
    if result.get("timeout"):
        hint = "raise [tool.gradlint] timeout, or move slow module-level code under `if __name__ == \"__main__\":`"
    elif stage == "import":
        hint = "fix the import, or exclude the file from model analysis with --no-exec"
    elif stage == "build" and candidate.kind in ("class", "factory"):
        hint = (f"add [[tool.gradlint.models]] entry = \"{candidate.shown}:{candidate.callable}\" with kwargs, "
                "or a zero-argument build() factory")
    elif stage == "build" and "argument" in str(result.get("reason", "")):
        # a configured or --model entry whose constructor wants arguments it was not given
        hint = f"give its arguments as kwargs in the [[tool.gradlint.models]] entry for \"{candidate.shown}:{candidate.callable}\""
    else:
        hint = "fix the model code, or select it away with --ignore GL002"
    return f"{message}; {hint}"


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
            index: Optional[FileIndex] = None) -> list[tuple[Candidate, dict[str, Any]]]:
    """Every model candidate of the run with the worker's result for it; the model files
    spread over up to ``jobs`` worker processes (None: the cores)."""
    index = index if index is not None else FileIndex(settings.root)
    candidates = discover_candidates(files, settings.models, cli_models, cli_input, settings.root, index)
    batch = int(settings.probe.get("batch-size", 8))
    for candidate in candidates:
        if candidate.example_input and isinstance(candidate.input, str):
            candidate.input = with_batch(candidate.input, batch)
    unbuildable = [(c, {"status": "needs-arguments"}) for c in candidates if c.needs]
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
    missing = {"status": "error", "stage": "start", "reason": "no result"}
    collected = [(c, results.get(c.index, missing)) for c in candidates] + unbuildable
    return sorted(collected, key=lambda item: item[0].index)


def judge(collected: Sequence[tuple[Candidate, dict[str, Any]]], rules: Sequence[Rule],
          settings: Settings) -> tuple[list[Finding], list[dict[str, Any]]]:
    """The rules over the worker's results: findings and JSON ``models`` entries."""
    candidates = [c for c, _ in collected]
    results = {c.index: r for c, r in collected}
    findings: list[Finding] = []
    models: list[dict[str, Any]] = []
    # no torch is a fact about this environment, not about the user's code: no finding,
    # a "not analysed" models entry each, and one notice for the run (model_notices)
    for candidate in candidates:
        if results.get(candidate.index, {}).get("status") == "no-torch":
            models.append({"name": candidate.name, "path": candidate.shown, "line": candidate.line,
                           "status": NOT_ANALYSED, "reason": f"torch is not installed here ({results[candidate.index].get('reason', '')})"})
    used_inside = {key for r in results.values() if r.get("status") == "ok" for key in r["graph"].get("submodule_classes", ())}
    model_rules = [rule for rule in rules if rule.scope == "model"]
    same_import_failure = _same_import_failure(candidates, results)
    missing_packages = environment.missing_packages(candidates, results, settings.root)
    findings.extend(environment.package_notices(missing_packages))
    for candidate in candidates:
        result = results[candidate.index]
        status = result.get("status")
        if status == "no-torch":
            continue
        if candidate.kind == "class" and f"{candidate.file}::{candidate.callable}" in used_inside:
            continue  # a block of another model of this run: reported with its root
        if status in ("skipped", "needs-arguments"):
            models.append(environment.not_built_entry(candidate, result, settings.root))
            continue
        if status != "ok" and candidate.index in missing_packages.get("indices", {}):
            models.append({"name": candidate.name, "path": candidate.shown, "line": candidate.line,
                           "status": NOT_ANALYSED, "reason": result.get("reason")})
            continue
        if status != "ok":
            group = same_import_failure.get(candidate.file)
            if group is None or group[0] is candidate:
                others = group[1:] if group else ()
                message = _failure_message(candidate, result, others)
                finding = _finding("GL002", candidate.shown, _candidate_span(candidate), message, candidate.name)
                if environment.is_environment(str(result.get("reason", ""))):
                    finding.severity = Severity.INFO  # not the code's fault: a notice (README)
                findings.append(finding)
            models.append({"name": candidate.name, "path": candidate.shown, "line": candidate.line,
                           "status": "failed", "error": result.get("reason")})
            continue
        model_findings, summary = _model_findings(candidate, result, model_rules, settings)
        findings.extend(model_findings)
        models.append(summary)
    return findings, models


def _same_import_failure(candidates: Sequence[Candidate], results: dict[int, dict[str, Any]]) -> dict[str, list[Candidate]]:
    """Files whose every model failed to import for one and the same reason: one GL002
    for the file (a missing dependency would otherwise repeat for each of its models)."""
    by_file: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_file.setdefault(candidate.file, []).append(candidate)
    groups = {}
    for file, group in by_file.items():
        reasons = {(results[c.index].get("status"), results[c.index].get("stage"), results[c.index].get("reason")) for c in group}
        if len(group) > 1 and len(reasons) == 1 and next(iter(reasons))[:2] == ("error", "import"):
            groups[file] = group
    return groups


def _model_findings(candidate: Candidate, result: dict[str, Any], model_rules: Sequence[Rule],
                    settings: Settings) -> tuple[list[Finding], dict[str, Any]]:
    graph_data = dict(result["graph"])
    graph_data["shown"] = candidate.shown
    for item in graph_data.get("layers", []):
        item["shown"] = _shown(item["file"])
    graph = ModelGraph(graph_data)
    findings: list[Finding] = []
    for rule in model_rules:
        for report in rule.check(graph, settings.options_for(rule.code, rule.options)):
            findings.append(_report_finding(rule, report, candidate))
    if not graph.traced:
        findings.append(_finding(
            "GL003", candidate.shown, _candidate_span(candidate),
            f"model '{candidate.name}' could not be traced with torch.fx nor recorded ({graph.trace_note}); analysed its module "
            "tree in registration order instead, so GL101 and GL104 were skipped; give its input "
            "(input = \"dtype[shape]\" in [[tool.gradlint.models]], or example_input()) to get the full analysis", candidate.name))
    probe = result.get("probe")
    if isinstance(probe, dict) and isinstance(probe.get("error"), dict):
        error = probe["error"]
        findings.append(_finding(
            "GL002", candidate.shown, _candidate_span(candidate),
            f"model '{candidate.name}' could not be probed ({error.get('kind', 'failed')}, "
            f"{_duration(float((result.get('timings') or {}).get('probe', 0.0)))}): {error.get('message', '')}",
            candidate.name))
    findings = _dedupe(findings)
    summary = graph.summary()
    # no wall-clock numbers by default: the same tree and seed must give byte-identical JSON
    summary.update({"status": "analysed"})
    if os.environ.get("GRADLINT_COST") == "1":  # per-model time and memory, for budgets (README)
        summary["cost"] = {"seconds": round(float(result.get("seconds", 0.0)), 2),
                           "stages": {k: round(float(v), 2) for k, v in (result.get("timings") or {}).items()},
                           **(result.get("memory") or {})}
    try:
        from gradlint.probe.confirm import apply_probe
    except ImportError:
        return findings, summary
    model_result = {"candidate": candidate.to_dict(), "graph": graph_data, "probe": probe, "summary": summary,
                    "model_graph": graph}
    extra = apply_probe(model_result, findings, settings) or []
    return findings + list(extra), summary


def _report_finding(rule: Rule, report: Report, candidate: Candidate) -> Finding:
    file = report.extra.get("file") or candidate.file
    finding = _finding(rule.code, _shown(file), report.span, report.message, candidate.name)
    finding.fix = report.fix
    return finding


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


def _duration(seconds: float) -> str:
    """Whole seconds, so that the message repeats run to run (timeouts say their limit)."""
    return "under 1 s" if seconds < 1 else f"{seconds:.0f} s"
