"""GL215 in the CLI: connect a file finding (a model ending in softmax/sigmoid fed to a
loss that applies it again) to the model the probe ran, and confirm or refute it with
the gradient ratio the probe measured at that model's logits for the finding's loss
(:mod:`gradlint.probe.output_activation`). No torch here (main process).

The model is the probed one of the same file whose definition starts nearest above the
finding's line (the finding sits on the model's final activation). Where none was
probed, or its output was no softmax/sigmoid tensor, the finding stays *not-probed* with
the reason; the policy itself is the rule module's ``confirm()``.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, Optional

from gradlint.findings import Finding
from gradlint.registry import get_rule

# the loss as GL215's message names it -> the probe's key
_LOSSES = {"CrossEntropyLoss": "CrossEntropyLoss", "F.cross_entropy": "CrossEntropyLoss", "NLLLoss": "NLLLoss",
           "F.nll_loss": "NLLLoss", "BCEWithLogitsLoss": "BCEWithLogitsLoss",
           "F.binary_cross_entropy_with_logits": "BCEWithLogitsLoss"}
_FED_TO = re.compile(r"feeds it to (\S+), which")
_NAMED = re.compile(r"(\w+)'s (?:output|forward)")  # the model class the message names
_ACTIVATION_LINE = re.compile(r"'s (?:output|forward returns) \(line (\d+)")  # its activation, in this file
_ACTIVATION_ELSEWHERE = re.compile(r"'s (?:output|forward returns) \([^)\s]+\.py:\d+")  # in another file


def confirm_loss_findings(findings: list[Finding], models: list[dict[str, Any]]) -> None:
    """Set the confirmation of every GL215 finding in ``findings`` (in place)."""
    rule = get_rule("GL215")
    confirm = getattr(importlib.import_module(rule.module), "confirm", None) if rule else None
    if confirm is None:
        return
    for finding in findings:
        if finding.code == "GL215":
            measurement = _measurement(finding, models)
            finding.confirmation = confirm(measurement)


def _measurement(finding: Finding, models: list[dict[str, Any]]) -> dict[str, Any]:
    model = _model_of(finding, models)
    if model is None:
        return {"reason": "no model defined in this file was probed (run without --no-exec, and make the model "
                          "discoverable), so the gradient at its logits was not measured"}
    probe = model.get("probe")
    if not isinstance(probe, dict):
        return {"reason": f"model '{model.get('name')}' was not probed, so the gradient at its logits was not measured"}
    if "is raw logits" in finding.message:
        return {"reason": "raw logits into a loss that expects probabilities fail at run time (values outside "
                          "[0, 1]); there is no gradient ratio to measure, the finding is read from the source"}
    measured = probe.get("output_activation")
    match = _FED_TO.search(finding.message)
    loss = _LOSSES.get(match.group(1)) if match else None
    if not isinstance(measured, dict) or loss is None:
        return {"reason": f"the output of model '{model.get('name')}' on the probe input was not a softmax/sigmoid "
                          "tensor, so the gradient at its logits was not measured"}
    ratio = (measured.get("logit_grad_ratio") or {}).get(loss)
    if ratio is None:
        return {"reason": f"model '{model.get('name')}' ends in {measured.get('activation')} on the probe input, "
                          f"which {loss} does not take as GL215 reads it"}
    return {"logit_grad_ratio": float(ratio), "model": model.get("name"), "loss": loss}


def _model_of(finding: Finding, models: list[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The probed model of the finding's file the message names (``Classifier's output (line
    11)``), else the one defined last above the activation's line (the finding's own line
    when the message names none)."""
    here = [m for m in models if m.get("path") == finding.path and isinstance(m.get("line"), int)]
    at = _ACTIVATION_LINE.search(finding.message)
    if at is None and _ACTIVATION_ELSEWHERE.search(finding.message):
        return None  # the model is another file's: this file's probed models are not it
    named = _NAMED.search(finding.message)
    by_name = [m for m in here if named and m.get("name") == named.group(1)]
    if len(by_name) == 1:
        return by_name[0]
    line = int(at.group(1)) if at else finding.line
    above = [m for m in here if m["line"] <= line]
    return max(above, key=lambda m: m["line"]) if above else None
