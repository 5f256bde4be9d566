"""``gradlint.preflight``: the CLI's model analysis and probe, run in the user's own
process on the real model, batch, loss and optimiser, then the preflight rules.

The same functions as the CLI's worker: ``trace_model`` and ``extract`` build the
model graph, ``probe.entry.run_probe`` measures one forward/backward (here on the
user's batch and loss, the model's own forward, the user's device), and
``model.analyze.judge`` turns both into GL1xx/GL3xx findings and the JSON ``models``
entry. The GL4xx rules (scope "preflight") read :mod:`gradlint.inprocess.facts`.
Everything is restored after (:mod:`gradlint.inprocess.state`), also on failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import torch
from torch import nn

from gradlint.apply import apply_rules, engine_finding
from gradlint.config import Settings
from gradlint.findings import Finding, Span
from gradlint.inprocess.batch import check_devices, loss_function, model_input
from gradlint.inprocess.collect import StepMeasure, build_summary, optimizer_location, place_of
from gradlint.inprocess.errors import PreflightError
from gradlint.inprocess.facts import PreflightSummary
from gradlint.inprocess.measured import OutputWatch, measured_findings, norm_drift, output_loss
from gradlint.inprocess.places import Locator, assignment_location, caller_location, user_files
from gradlint.inprocess.report import PreflightReport
from gradlint.inprocess.slips import MeasuredSlips, NormDrift, OutputLoss
from gradlint.inprocess.state import SavedState
from gradlint.model.locate import ATTRIBUTE
from gradlint.registry import all_rules, get_rule, is_selected

SHARDED = ("FullyShardedDataParallel", "FSDPModule", "DeepSpeedEngine")
RAISE_ON = ("info", "warning", "error")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def sharded_notice(model: Any) -> Optional[str]:
    for module in [model, *getattr(model, "modules", lambda: [])()]:
        names = {k.__name__ for k in type(module).__mro__}
        hit = names.intersection(SHARDED)
        if hit:
            return (f"{sorted(hit)[0]} models are not supported yet: preflight measures whole parameters on one "
                    "process. Run it on the unwrapped model before sharding it (same batch), or on one rank "
                    "without FSDP/DeepSpeed")
    return None


def _rank() -> int:
    distributed = getattr(torch, "distributed", None)
    if distributed is not None and distributed.is_available() and distributed.is_initialized():
        return int(distributed.get_rank())  # a local query, no collective
    return 0


def _model_device(model: nn.Module) -> Optional[torch.device]:
    for tensor in [*model.parameters(), *model.buffers()]:
        return tensor.device
    return None


def _wanted_device(device: Any, model_device: Optional[torch.device]) -> Optional[torch.device]:
    """The device the batch is moved to: only one asked for (None: the batch stays put)."""
    if device is None:
        return None
    wanted = torch.device(device)
    if wanted.type == "cuda" and wanted.index is None and torch.cuda.is_available():
        wanted = torch.device("cuda", torch.cuda.current_device())
    if model_device is not None and wanted != model_device:
        raise PreflightError(f"device={str(device)!r} but the model is on {model_device}: move the model first "
                             f"(model.to('{wanted}')), or leave device=None to run where the model is")
    return wanted


def run_preflight(model: Any, batch: Any, loss_fn: Optional[Callable[[Any, Any], Any]] = None, optimizer: Any = None,
                  steps: int = 1, device: Any = None, raise_on: Optional[str] = None,
                  check_eval_mode: bool = True) -> PreflightReport:
    """``gradlint.preflight``; ``check_eval_mode=False`` for a caller that puts the model
    in train mode itself (the transformers Trainer)."""
    if raise_on is not None and raise_on not in RAISE_ON:
        raise PreflightError(f"raise_on={raise_on!r}: use None, 'warning' or 'error'")
    if not isinstance(model, nn.Module):
        raise PreflightError(f"preflight takes a torch.nn.Module, got a {type(model).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise PreflightError(f"steps={steps!r}: use 0 (no optimiser step) or a positive number of steps")
    notice = sharded_notice(model)
    if notice:
        return PreflightReport(notices=[notice], rank=_rank())
    rank = _rank()
    if isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
        model = model.module  # the local replica: no collective call, no rank waits on another
    model_device = _model_device(model)
    data = model_input(batch, _wanted_device(device, model_device))
    check_devices(data, model_device)
    report = _measure(model, batch, data, loss_fn, optimizer, steps, check_eval_mode)
    report.rank = rank
    if raise_on is not None and report.at_least(raise_on):
        found = report.at_least(raise_on)
        listed = ", ".join(f"{f.code} ({f.path}:{f.line})" for f in found[:5])
        raise PreflightError(f"gradlint preflight: {len(found)} finding(s) at or above {raise_on}: {listed}; "
                             "the report is on this error's .report", report)
    return report


def _measure(model: nn.Module, batch: Any, data: Any, loss_fn: Any, optimizer: Any, steps: int,
             check_eval_mode: bool) -> PreflightReport:
    from gradlint.model import extract
    from gradlint.model.trace import trace_model
    from gradlint.probe.entry import Given, LossMaker, ProbeFailure, run_probe

    is_user = user_files()
    caller = caller_location(is_user)
    scripts = [caller.path] if caller else []
    try:
        import inspect

        scripts.append(inspect.getsourcefile(type(model)) or "")
    except (TypeError, OSError):
        pass
    fallback = caller or Span(1, 1, 1, 2, "<preflight>")
    locator = Locator(model, is_user, fallback, scripts)
    built_at = assignment_location(optimizer, is_user) if optimizer is not None else None
    stepping = optimizer is not None and steps >= 1
    saved = SavedState(model, optimizer, copy_params=stepping)
    eval_modules = [name for (name, module), mode in zip(model.named_modules(), saved.modes)
                    if check_eval_mode and not mode and _trains_differently(name, module)]
    marked = _mark_creation_places(model, locator)
    loss = loss_function(loss_fn, batch)
    probe: Optional[dict] = None
    graph: dict[str, Any] = {}
    measure: Optional[StepMeasure] = None
    drift: list[NormDrift] = []
    mismatch: Optional[OutputLoss] = None
    watch: Optional[OutputWatch] = None
    try:
        saved.take_grads()
        if any(p.requires_grad for p in saved.params):
            model.train()  # traced as it trains; the modes it had are put back after
            graph_module, note = trace_model(model, is_user)
            root = locator.root()
            if graph_module is not None:
                graph = extract.from_fx(model, graph_module, is_user, root)
            else:
                graph = extract.from_module_tree(model, is_user, root)
            graph.update({"name": type(model).__name__, "file": root.path, "line": root.line, "column": root.column,
                          "traced": graph_module is not None, "trace_note": note,
                          "parameters": sum(p.numel() for p in saved.params), "submodule_classes": []})
            extra_steps = LossMaker(torch.Generator().manual_seed(0), None)

            def forward_loss() -> torch.Tensor:  # steps after the first: a fresh forward/backward
                output = model(*data.args, **data.kwargs)
                return loss(output) if loss else extra_steps(output)

            measure = StepMeasure(model, optimizer, steps if stepping else 0, saved.values, forward_loss)
            given = Given(data=data, device=_model_device(model) or torch.device("cpu"), loss=loss,
                          after_backward=measure)
            # the model's own forward, not the traced graph: a torch.no_grad() block is kept
            watch = OutputWatch(model)
            probe = run_probe(model, None, graph, {}, {}, {"seed": 0, "steps": 1}, given=given)
            drift, mismatch = norm_drift(model, saved, optimizer), output_loss(watch, loss)  # before the restore
    except PreflightError:
        raise
    except ProbeFailure as exc:
        raise PreflightError(f"gradlint preflight: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the user's model and loss ran: one clear line
        raise PreflightError(
            f"gradlint preflight: the model could not run a training step on this batch ({_one_line(exc)}); pass "
            "what model(...) takes: a tensor, a tuple/list whose first element is the input, or a dict of keyword "
            "arguments, and a loss_fn(output, batch) when the output is not the loss") from None
    finally:
        if watch is not None:
            watch.remove()
        for module in marked:
            module.__dict__.pop(ATTRIBUTE, None)
        saved.restore()
    summary = build_summary(model, optimizer, locator, measure, (probe or {}).get("call_order") or [],
                            steps if stepping else 0, built_at or optimizer_location(optimizer, locator))
    report = _report(model, graph, probe, summary, locator, eval_modules)
    settings = Settings(root=Path.cwd())
    from gradlint.model.analyze import suppress

    slips = MeasuredSlips(summary.model, summary.place, drift, mismatch, lambda module: place_of(locator.of(module)))
    rules = [rule for rule in all_rules().values() if is_selected(rule.code, settings.select, settings.ignore)]
    report.findings.extend(suppress(measured_findings(slips, rules), settings))
    report.findings.sort(key=Finding.sort_key)
    return report


def _trains_differently(name: str, module: nn.Module) -> bool:
    """The model itself, a dropout, or a normalisation layer that is not frozen (a frozen
    BatchNorm kept in eval mode is a common fine-tuning choice)."""
    type_name = type(module).__name__
    if not name or "Dropout" in type_name:
        return True
    own = list(module.parameters(recurse=False))
    return "Norm" in type_name and (not own or any(p.requires_grad for p in own))


def _mark_creation_places(model: nn.Module, locator: Locator) -> list[nn.Module]:
    """Give every module without one the creation place the CLI's worker records at
    construction, so the graph and the probe point at the user's lines; removed after."""
    marked = []
    for name, module in model.named_modules():
        if ATTRIBUTE not in module.__dict__:
            object.__setattr__(module, ATTRIBUTE, locator.of(name))
            marked.append(module)
    return marked


def _report(model: nn.Module, graph: dict, probe: Optional[dict], summary: PreflightSummary, locator: Locator,
            eval_modules: list[str]) -> PreflightReport:
    from gradlint.model.analyze import judge, suppress
    from gradlint.model.discover import Candidate
    from gradlint.model.messages import Analysed

    settings = Settings(root=Path.cwd())
    rules = [r for code, r in all_rules().items() if is_selected(code, settings.select, settings.ignore)]
    findings: list[Finding] = []
    models: list[dict[str, Any]] = []
    if probe is not None:
        root = summary.place
        candidate = Candidate(file=graph["file"], shown=root.path, callable=summary.model, kind="preflight",
                              line=root.line, column=root.column, name=summary.model)
        findings, models = judge([(candidate, Analysed(graph, probe=probe))], rules, settings)
    findings.extend(apply_rules([r for r in rules if r.scope == "preflight"], summary, settings, summary.place.path,
                                summary.model))
    findings.extend(eval_mode_findings(summary, eval_modules, locator))
    # GL003 (fx could not trace forward) asks for a traceable forward to get GL101/GL104;
    # preflight measured the real forward regardless, so it is a notice here, not a finding
    notices = [f"{f.message} (GL003)" for f in findings if f.code == "GL003"]
    findings = suppress([f for f in findings if f.code != "GL003"], settings)
    findings.sort(key=Finding.sort_key)
    return PreflightReport(findings=findings, models=models, eval_modules=eval_modules, notices=notices)


def eval_mode_findings(summary: PreflightSummary, eval_modules: list[str], locator: Locator) -> list[Finding]:
    """GL211's preflight form (the rule itself is the static GL211 module; without it
    in the registry nothing is reported): the model, or a dropout/normalisation
    submodule, is in eval mode when training starts."""
    rule = get_rule("GL211")
    if rule is None or not eval_modules:
        return []
    if "" in eval_modules:
        place = summary.place
        message = (f"model '{summary.model}' is in eval mode just before training (when preflight ran): "
                   "dropout is off and normalisation layers use their running statistics; call model.train() "
                   "before the first training step")
    else:
        place = place_of(locator.of(eval_modules[0]))
        shown = ", ".join(eval_modules[:4]) + (f" and {len(eval_modules) - 4} more" if len(eval_modules) > 4 else "")
        message = (f"{len(eval_modules)} dropout/normalisation submodule(s) of '{summary.model}' are in eval mode "
                   f"when training starts ({shown}); call model.train() before the first training step, or freeze "
                   "them on purpose with requires_grad_(False)")
    return [engine_finding(rule, place, message, place.path, summary.model)]
