"""Each static rule declares which probe measurements confirm it (a ``confirm`` hook in
its module); a rule without one gets the default policy. Hand-made probe summaries, no torch."""

from __future__ import annotations

from gradlint.probe.confirm import confirmation_for
from gradlint.findings import Span
from gradlint.probe.summary import ActivationMeasure, ProbeSummary
from gradlint.probe.verdicts import default_confirm
from gradlint.registry import all_rules

QUIET = ProbeSummary(model="m", place=Span(1, path="m.py"))  # nothing measured moved


def _saturated(fraction: float) -> ProbeSummary:
    tanh = ActivationMeasure(name="act", type="Tanh", family="saturating", kind="tanh", place=Span(2, path="m.py"), saturated=fraction)
    return ProbeSummary(model="m", place=Span(1, path="m.py"), activations=[tanh])


def test_the_hooks_are_read_from_the_rule_modules():
    hooked = sorted(code for code, rule in all_rules().items() if rule.confirm is not None)
    # GL215's hook takes the gradient ratio its own measurement gives (registry docstring)
    assert hooked == ["GL101", "GL102", "GL103", "GL104", "GL105", "GL106", "GL215"]
    assert all_rules()["GL215"].confirm({"logit_grad_ratio": 0.1}).status == "confirmed"
    assert all_rules()["GL107"].confirm is None  # the default policy


def test_a_measured_finding_confirms_the_default_but_not_a_scale_rule():
    measured = {"GL301"}
    assert confirmation_for("GL107", QUIET, measured).status == "confirmed"  # default: any GL3xx fired
    assert confirmation_for("GL102", QUIET, measured).status == "refuted"  # only moved signals confirm it
    assert default_confirm(QUIET, frozenset()).status == "refuted"


def test_gl101_reads_saturation_and_gl106_is_never_refuted():
    assert confirmation_for("GL101", _saturated(0.45), set()).status == "confirmed"
    assert confirmation_for("GL101", _saturated(0.2), set()).status == "refuted"
    rnn = confirmation_for("GL106", QUIET, set())
    assert rnn.status == "not-probed" and "not through time" in rnn.evidence["reason"]
