"""GL211-GL214 on the held-out training scripts of fixtures/heldout_round2/, and their fixes run.

Each script marks its expected findings with ``# expect: GLxxx``; the rest are correct
near-miss versions of the same patterns. Two scripts train a tiny model on the CPU and
print what the bug does (batches trained in eval mode; whether the "frozen" backbone
moved): the fixed text must parse, not be reported again, and change that number.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gradlint.config import Settings
from gradlint.fix.apply import fix_text
from gradlint.runner import active_rules, lint_file

HELDOUT = Path(__file__).resolve().parent.parent / "fixtures" / "heldout_round2"
CODES = ["GL211", "GL212", "GL213", "GL214"]
SCRIPTS = sorted(HELDOUT.glob("*.py"))
_EXPECT = re.compile(r"#\s*expect:\s*(GL\d{3})")


def _expected(path: Path) -> set[tuple[str, int]]:
    return {
        (match.group(1), number)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if (match := _EXPECT.search(line))
    }


def _lint(path: Path, codes: list[str]) -> set[tuple[str, int]]:
    settings = Settings(select=codes, root=path.parent)
    return {(f.code, f.line) for f in lint_file(path, str(path), active_rules(settings), settings)}


def test_heldout_set_has_positives_and_near_misses_for_each_rule():
    expected = {code for path in SCRIPTS for code, _ in _expected(path)}
    clean = [path for path in SCRIPTS if not _expected(path)]
    assert expected == set(CODES)
    assert len(SCRIPTS) >= 12 and len(clean) >= 5


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_heldout_script_reports_exactly_its_expected_lines(path):
    assert _lint(path, CODES) == _expected(path)


def _run(script: Path) -> str:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize(
    "name,code,printed,before,after",
    [
        ("h01_cnn_val_leaves_eval.py", "GL211", "trained_in_eval_batches", "6", "0"),
        ("h10_freeze_backbone_attr.py", "GL213", "backbone_changed", "True", "False"),
    ],
)
def test_fixed_script_parses_is_clean_and_runs(tmp_path, name, code, printed, before, after):
    pytest.importorskip("torch")
    original = HELDOUT / name
    assert f"{printed}={before}" in _run(original)  # the bug, measured
    settings = Settings(select=[code], root=tmp_path)
    fixed, count = fix_text(str(original), original.read_text(), settings)
    assert count == 1
    script = tmp_path / name
    script.write_text(fixed)
    assert _lint(script, [code]) == set()
    assert fix_text(str(script), fixed, settings) == (fixed, 0)
    assert f"{printed}={after}" in _run(script)


def test_nesting_deeper_than_the_analysis_ends_quietly():
    from gradlint.runner import lint_unit
    from gradlint.source.unit import SourceUnit

    chain = b".to(device)" * 300
    data = b"import torch\nopt = torch.optim.SGD(model.parameters())\nmodel.fc = layer" + chain + b"\nmodel.fc.requires_grad = False\n"
    unit = SourceUnit.from_bytes("deep.py", data)
    assert unit.tree is not None
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)
    try:
        settings = Settings(select=["GL212", "GL213", "GL214"])
        findings = lint_unit(unit, active_rules(settings), settings)
    finally:
        sys.setrecursionlimit(limit)
    assert findings == []
