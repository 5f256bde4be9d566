"""GL207-GL210 on the held-out training scripts, and their fixes on scripts that run.

The held-out scripts (tests/data/heldout_train/) were written before the rules, in the
same ``# expect: GLxxx`` convention as fixtures/train/. The runnable scripts below are
tiny CPU training loops (an ``nn.Linear`` on synthetic data); each is linted, fixed with
``--fix``'s own code, and both versions run a few iterations in one torch process: the
fixed one must run, must not be re-reported, and must measurably change what the
gradients do (the broken one is measured too, so the test can fail).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gradlint.config import Settings
from gradlint.fix.apply import fix_text
from gradlint.runner import active_rules, lint_file

HELDOUT = Path(__file__).resolve().parent / "data" / "heldout_train"
CODES = ("GL207", "GL208", "GL209", "GL210")
_EXPECT = re.compile(r"#\s*expect:\s*(GL\d{3}(?:\s*,\s*GL\d{3})*)")


def _expected(path: Path) -> set[tuple[str, str, int]]:
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            found |= {(path.name, code.strip(), number) for code in match.group(1).split(",")}
    return found


def _lint(path: Path, root: Path, codes=CODES) -> list:
    settings = Settings(select=list(codes), root=root)
    return lint_file(path, str(path), active_rules(settings), settings)


def test_heldout_precision_and_recall_per_rule():
    scripts = sorted(HELDOUT.glob("*.py"))
    assert len(scripts) >= 12
    expected = set().union(*(_expected(p) for p in scripts))
    found = {(p.name, f.code, f.line) for p in scripts for f in _lint(p, HELDOUT)}
    for code in CODES:
        mine, wanted = {x for x in found if x[1] == code}, {x for x in expected if x[1] == code}
        assert wanted, f"{code} has no positive held-out script"
        hits = len(mine & wanted)
        assert hits / len(mine) >= 0.9 if mine else False, (code, sorted(mine - wanted))
        assert hits / len(wanted) >= 0.9, (code, sorted(wanted - mine))
    clean = [p for p in scripts if not _expected(p)]
    assert len(clean) * 3 >= len(scripts)  # near-miss correct loops are a good part of the set


_PRELUDE = """
import torch
from torch import nn
torch.manual_seed(0)
model = nn.Linear(4, 1, bias=False)
x = torch.ones(8, 4)
batches = [(x, torch.zeros(8, 1)) for _ in range(8)]
"""

# GL207: the ratio of the gradient norm at the step to one micro-batch's (loss / k, k = 4):
# 1.0 when the window accumulates, 1/4 when each micro-batch clears it.
ZERO_GRAD = _PRELUDE + """
optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
accum = 4
ratios = []
for i, (xb, yb) in enumerate(batches):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(xb), yb + 1.0) / accum
    loss.backward()
    if (i + 1) % accum == 0:
        one = torch.autograd.grad(nn.functional.mse_loss(model(xb), yb + 1.0), model.weight)[0].norm()
        ratios.append((model.weight.grad.norm() / one).item())
        optimizer.step()
RESULT = max(ratios)
"""

# GL208: how well the update of a window points along the window's gradient (cosine), when
# each of the k = 4 micro-batches pushes a different weight equally: 1.0 when the sum is
# clipped once; clipping each partial sum shrinks the earlier micro-batches again and again.
CLIP = _PRELUDE + """
nn.init.zeros_(model.weight)
optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
accum = 4
windows = [(torch.eye(4)[i % 4].repeat(8, 1), torch.full((8, 1), 5.0)) for i in range(8)]
cosines = []
for i, (xb, yb) in enumerate(windows):
    (nn.functional.mse_loss(model(xb), yb) / accum).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    if (i + 1) % accum == 0:
        before = model.weight.detach().clone()
        optimizer.step()
        cosines.append(nn.functional.cosine_similarity(model.weight.detach() - before, torch.ones(1, 4)).item())
        optimizer.zero_grad()
RESULT = min(cosines)
"""

# GL209: the learning rate the first update uses; the schedule starts at 0.1 and halves.
SCHEDULER = _PRELUDE + """
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 ** step)
used = []
for xb, yb in batches:
    optimizer.zero_grad()
    nn.functional.mse_loss(model(xb), yb).backward()
    scheduler.step()
    used.append(optimizer.param_groups[0]["lr"])
    optimizer.step()
RESULT = used[0]
"""

# GL210: the largest weight after a few SGD steps under a CPU GradScaler (scale 65536).
SCALER = _PRELUDE + """
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
scaler = torch.amp.GradScaler("cpu")
for xb, yb in batches[:2]:
    optimizer.zero_grad()
    scaler.scale(nn.functional.mse_loss(model(xb), yb + 1.0)).backward()
    optimizer.step()
RESULT = model.weight.abs().max().item()
"""

_DRIVER = """
import json, sys
results = []
for source in json.load(sys.stdin):
    scope = {}
    exec(compile(source, "<script>", "exec"), scope)
    results.append(scope["RESULT"])
print(json.dumps(results))
"""


def _fixed(tmp_path: Path, code: str, source: str) -> str:
    path = tmp_path / f"{code}.py"
    path.write_text(source)
    before = _lint(path, tmp_path, (code,))
    assert [f.code for f in before] == [code] and before[0].fix is not None, [f.message for f in before]
    settings = Settings(select=[code], root=tmp_path)
    text, count = fix_text(str(path), source, settings)
    assert count == 1 and text != source
    ast.parse(text)
    path.write_text(text)
    assert _lint(path, tmp_path, (code,)) == []
    assert fix_text(str(path), text, settings) == (text, 0)
    return text


def test_fixed_scripts_run_and_change_the_gradients(tmp_path):
    pytest.importorskip("torch")
    scripts = {"GL207": ZERO_GRAD, "GL208": CLIP, "GL209": SCHEDULER, "GL210": SCALER}
    sources = []
    for code, source in scripts.items():
        sources += [source, _fixed(tmp_path, code, source)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-c", _DRIVER], input=json.dumps(sources), capture_output=True,
                         text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    values = json.loads(run.stdout.strip().splitlines()[-1])
    measured = dict(zip([f"{c}_{kind}" for c in scripts for kind in ("broken", "fixed")], values))
    assert measured["GL207_broken"] == pytest.approx(0.25, rel=1e-4)  # one micro-batch of four, divided by 4
    assert measured["GL207_fixed"] == pytest.approx(1.0, rel=1e-4)  # the whole window
    assert measured["GL208_broken"] < 0.9  # the last micro-batch dominates the update
    assert measured["GL208_fixed"] == pytest.approx(1.0, abs=1e-5)  # the window's gradient, clipped once
    assert measured["GL209_broken"] == pytest.approx(0.05)  # the schedule's first value skipped
    assert measured["GL209_fixed"] == pytest.approx(0.1)
    assert measured["GL210_broken"] > 1e3  # 65536-times gradients stepped by SGD
    assert measured["GL210_fixed"] < 10.0
