"""Every fix leaves a script that runs: each script below is a small, complete CPU
training run with one planted bug; after --fix it parses, gradlint reports none of the
fixed codes again, and it runs three iterations without an error."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from gradlint.config import Settings
from gradlint.fix.apply import fix_text
from gradlint.runner import active_rules, lint_file

pytest.importorskip("torch")

PRELUDE = """\
import torch
from torch import nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loader = [(torch.randn(5, 4), torch.randint(0, 2, (5,))) for _ in range(3)]
loss_fn = nn.CrossEntropyLoss()
"""

SCRIPTS = {
    # two clips under AMP: one unscale_ before the first; a second unscale_ raises
    "amp_two_clips": PRELUDE + """\
scaler = torch.amp.GradScaler("cpu")
for x, y in loader:
    optimizer.zero_grad()
    scaler.scale(loss_fn(model(x), y)).backward()
    torch.nn.utils.clip_grad_norm_(model[0].parameters(), 1.0)
    torch.nn.utils.clip_grad_norm_(model[2].parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
""",
    "missing_zero_grad": PRELUDE + """\
for x, y in loader:
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
""",
    "clip_after_step": PRELUDE + """\
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
""",
    "accumulation_unscaled": PRELUDE + """\
accumulation_steps = 2
for i, (x, y) in enumerate(loader):
    loss = loss_fn(model(x), y)
    loss.backward()
    if (i + 1) % accumulation_steps == 0:
        optimizer.step()
        optimizer.zero_grad()
""",
    "rnn_no_clip": """\
import torch
from torch import nn
torch.manual_seed(0)
class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 2)
    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])
model = Classifier()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loader = [(torch.randn(5, 7, 4), torch.randint(0, 2, (5,))) for _ in range(3)]
for x, y in loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
""",
}


def _findings(path: Path, root: Path) -> list:
    settings = Settings(select=["GL2"], root=root)
    return lint_file(path, str(path), active_rules(settings), settings)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_fixed_script_parses_is_clean_and_runs(tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(SCRIPTS[name])
    fixable = {f.code for f in _findings(path, tmp_path) if f.fix}
    assert fixable, f"{name}: no fixable finding"
    text, count = fix_text(str(path), SCRIPTS[name], Settings(select=["GL2"], root=tmp_path))
    assert count >= 1
    ast.parse(text)
    path.write_text(text)
    assert not {f.code for f in _findings(path, tmp_path)} & fixable
    run = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]


def test_two_clips_get_one_unscale(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(SCRIPTS["amp_two_clips"])
    findings = [f for f in _findings(path, tmp_path) if f.code == "GL203"]
    assert [f.line for f in findings] == [12, 13]
    assert [bool(f.fix) for f in findings] == [True, False]
    text, _ = fix_text(str(path), SCRIPTS["amp_two_clips"], Settings(select=["GL2"], root=tmp_path))
    assert text.count("scaler.unscale_(optimizer)") == 1


def test_lbfgs_clip_after_step_is_reported_without_a_fix_that_moves_it_before_backward(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(PRELUDE + """\
optimizer = torch.optim.LBFGS(model.parameters())
x, y = loader[0]
def closure():
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    return loss
for i in range(3):
    optimizer.step(closure)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
""")
    [finding] = [f for f in _findings(path, tmp_path) if f.code == "GL202"]
    assert finding.line == 17 and finding.fix is None
    assert "move it into closure(), after backward()" in finding.message


def test_lbfgs_rnn_gets_no_clip_fix_before_its_closure(tmp_path):
    path = tmp_path / "train.py"
    path.write_text("""\
import torch
from torch import nn
cell = nn.LSTMCell(1, 16)
optimizer = torch.optim.LBFGS(cell.parameters())
for i in range(3):
    def closure():
        optimizer.zero_grad()
        h, c = cell(inputs)
        loss = h.pow(2).mean()
        loss.backward()
        return loss
    optimizer.step(closure)
""")
    [finding] = [f for f in _findings(path, tmp_path) if f.code == "GL201"]
    assert finding.line == 12 and finding.fix is None
