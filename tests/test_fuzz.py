"""Fuzzing the source pipeline and the CLI: generated, mutated and hostile sources.

The suite runs a short fuzz (a few hundred inputs). The long run, which CI does not
run, is:

    GRADLINT_FUZZ=long python -m pytest tests/test_fuzz.py -q

(10,000+ inputs per property; about 10 minutes on 2 cores).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from conftest import FIXTURES, run_gradlint
from gradlint.config import Settings
from gradlint.runner import active_rules, lint_unit
from gradlint.source.unit import SourceUnit

LONG = os.environ.get("GRADLINT_FUZZ") == "long"
settings.register_profile(
    "fuzz", max_examples=10_000 if LONG else 150, deadline=None, derandomize=not LONG,
    suppress_health_check=list(HealthCheck),
)
FUZZ = settings.get_profile("fuzz")
RULES = [rule for rule in active_rules(Settings()) if rule.scope in ("file", "loop")]

SEED_SOURCE = b"""import torch
from torch import nn

model = nn.LSTM(8, 8)
optimizer = torch.optim.Adam(model.parameters())
scaler = torch.cuda.amp.GradScaler()
for epoch in range(3):
    for i, (x, y) in enumerate(loader):
        with torch.autocast("cuda"):
            loss = loss_fn(model(x)[0], y) / 4
        scaler.scale(loss).backward()
        if (i + 1) % 4 == 0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
"""


def seeds() -> list[bytes]:
    found = [SEED_SOURCE]
    if FIXTURES.exists():
        found += [p.read_bytes() for p in sorted(FIXTURES.rglob("*.py"))[:40]]
    return found


def check_pipeline(data: bytes) -> None:
    unit = SourceUnit.from_bytes("fuzz.py", data)
    findings = lint_unit(unit, RULES, Settings())
    for finding in findings:
        assert finding.line >= 1 and finding.column >= 1
        assert (finding.end_line, finding.end_column) >= (finding.line, finding.column)
    if unit.tree is None:
        assert [f.code for f in findings] == ["GL001"]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds())))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["truncate", "insert", "delete", "replace", "crlf", "tabs", "bom", "cookie"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "truncate":
            data = data[:at]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif action == "replace":
            data[at : at + 1] = draw(st.sampled_from([b"(", b")", b":", b"\x00", b"\xff", b"\t", b"\\", b"'", b"\n    "]))
        elif action == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        elif action == "tabs":
            data = bytearray(bytes(data).replace(b"    ", b"\t"))
        elif action == "bom":
            data[0:0] = b"\xef\xbb\xbf"
        else:
            data[0:0] = draw(st.sampled_from([b"# -*- coding: latin-1 -*-\n", b"# coding: bogus-8\n", b"# coding: utf-16\n"]))
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_sources_never_crash_the_pipeline(data):
    check_pipeline(data)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_pipeline(data):
    check_pipeline(data)


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("()[]{}:=.,+*/%\n\t #'\"\\abxy01lossbackwardstep_")), max_size=300))
def test_random_python_ish_text_never_crashes_the_pipeline(text):
    check_pipeline(text.encode("utf-8"))


try:
    import hypothesmith
except ImportError:  # pragma: no cover - hypothesmith is in the test extra
    hypothesmith = None


@pytest.mark.skipif(hypothesmith is None, reason="hypothesmith not installed (test extra)")
@settings(FUZZ, max_examples=10_000 if LONG else 40)
@given(st.deferred(lambda: hypothesmith.from_grammar()))
def test_grammar_generated_sources_never_crash_the_pipeline(source):
    check_pipeline(source.encode("utf-8", errors="surrogatepass"))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"x = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n", id="deep-parens"),
        pytest.param(b"x = " + b"-" * 50_000 + b"1\n", id="deep-unary"),
        pytest.param(b"loss = " + b" + ".join([b"a"] * 50_000) + b"\nloss.backward()\nopt.step()\n", id="long-binop"),
        pytest.param(b"for x in y:\n" + b"".join(b"    " * (i + 1) + b"if a:\n" for i in range(99)) + b"    " * 100 + b"loss.backward()\n", id="deep-ifs"),
        pytest.param(b"f(" * 190 + b")" * 190 + b"\n", id="deep-calls"),
        pytest.param(SEED_SOURCE * 2000, id="huge-file"),
        pytest.param(b"\x00" * 100, id="nulls"),
        pytest.param(b"\xef\xbb\xbf" + SEED_SOURCE.replace(b"\n", b"\r\n"), id="bom-crlf"),
        pytest.param("# coding: latin-1\nname = 'caf\xe9'\n".encode("latin-1"), id="latin-1"),
        pytest.param(b"", id="empty"),
    ],
)
def test_hostile_sources_end_in_findings_not_crashes(data):
    check_pipeline(data)


@settings(FUZZ, max_examples=200 if LONG else 12)
@given(st.lists(mutated(), min_size=1, max_size=4))
def test_cli_exits_0_or_1_without_traceback(sources):
    with tempfile.TemporaryDirectory() as folder:
        for index, data in enumerate(sources):
            Path(folder, f"f{index}.py").write_bytes(data)
        result = run_gradlint("--no-exec", "--no-cache", ".", cwd=folder)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr and result.stderr == ""


def test_nesting_beyond_the_analysers_stack_is_gl001_not_a_crash():
    import sys

    data = b"for x in y:\n    loss = " + b" + ".join([b"a"] * 400) + b"\n    loss.backward()\n    opt.step()\n"
    unit = SourceUnit.from_bytes("deep.py", data)
    assert unit.tree is not None  # Python parses it at the normal limit
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # stands in for a nesting just under the parser's limit
    try:
        findings = lint_unit(unit, RULES, Settings())
    finally:
        sys.setrecursionlimit(limit)
    assert [(f.code, f.line) for f in findings] == [("GL001", 1)]
    assert "nested too deeply" in findings[0].message
