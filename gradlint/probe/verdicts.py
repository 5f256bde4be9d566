"""What a static rule's ``confirm`` hook builds on (no torch): the numbers a
confirmation carries, whether the probe's signals moved, and the default policy.

A static finding names a risk; the probe *confirms* it when it measured the risk's
consequence, a looser bar than a GL3xx finding (those flag a model that will not train
as is). A rule says which measurements do that with an optional module-level hook
(see ``gradlint/registry.py``)::

    def confirm(probe: ProbeSummary, measured: frozenset[str]) -> Confirmation: ...

``measured`` holds the codes of the GL3xx findings the probe gave the same model. A rule
without the hook gets :func:`default_confirm`: confirmed when any GL3xx rule fired or the
signals moved by 100x (:func:`signals_moved`), refuted otherwise.
"""

from __future__ import annotations

from typing import Any

from gradlint.apply import round_evidence
from gradlint.findings import Confirmation
from gradlint.probe.summary import ProbeSummary

CONFIRM_FACTOR = 1e-2  # a 100x change of a signal across the model


def evidence(summary: ProbeSummary) -> dict[str, Any]:
    """The numbers a confirmation carries (rounded, JSON-safe)."""
    found: dict[str, Any] = {}
    backward = summary.backward_ratio()
    if backward:
        found["backward_signal_ratio"] = round_evidence(backward[0])
    forward = summary.forward_ratio()
    if forward:
        found["forward_signal_ratio"] = round_evidence(forward[0])
    grads = [l.grad_norm for l in summary.layers if l.grad_norm]
    if len(grads) >= 2:
        found["weight_grad_ratio"] = round_evidence(summary.layers[0].grad_norm / max(grads)) if summary.layers[0].grad_norm else 0.0
    saturated = [a.saturated for a in summary.activations if a.saturated is not None and not a.head]
    if saturated:
        found["max_saturated_fraction"] = round_evidence(max(saturated))
    dead = [a.dead for a in summary.activations if a.dead is not None]
    if dead:
        found["max_dead_fraction"] = round_evidence(max(dead))
    found["global_grad_norm"] = round_evidence(summary.global_grad_norm) if summary.global_grad_norm is not None else None
    if summary.nonfinite:
        found["nonfinite"] = len(summary.nonfinite)
    return found


def backward_fell(summary: ProbeSummary) -> bool:
    """The backward norm fell by 100x or more from the largest layer to the earliest."""
    backward = summary.backward_ratio()
    return bool(backward and backward[0] < CONFIRM_FACTOR)


def signals_moved(summary: ProbeSummary) -> bool:
    """The backward norm fell (or grew) by 100x or more across the model, the forward
    signal did, or a value went non-finite."""
    forward, growth = summary.forward_ratio(), summary.backward_growth()
    return bool(
        backward_fell(summary)
        or (forward and not CONFIRM_FACTOR <= forward[0] <= 1 / CONFIRM_FACTOR)
        or (growth and growth[0] > 1 / CONFIRM_FACTOR)
        or summary.nonfinite
    )


def verdict(hit: bool, summary: ProbeSummary) -> Confirmation:
    """Confirmed when ``hit``, refuted otherwise, with the probe's numbers as evidence."""
    return Confirmation("confirmed" if hit else "refuted", evidence(summary))


def confirm_when_signals_moved(probe: ProbeSummary, measured: frozenset[str]) -> Confirmation:
    """A hook for a rule whose risk is a scale drift across layers (init, depth): the
    signals moving by 100x confirms it, whatever the GL3xx rules said."""
    return verdict(signals_moved(probe), probe)


def default_confirm(probe: ProbeSummary, measured: frozenset[str]) -> Confirmation:
    """The policy of a rule without a hook: any GL3xx finding on the model, or the
    signals moved by 100x."""
    return verdict(bool(measured) or signals_moved(probe), probe)
