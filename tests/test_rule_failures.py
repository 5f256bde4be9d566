"""One rule failing on one file is reported there (an info finding under its code) and the
other rules and files still run: found on a real repository (pytorch_geometric) whose star
imports form a cycle, where GL215's reading of imported loss helpers recursed without end."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from conftest import lint_in_process, write_project

from gradlint.config import Settings
from gradlint.findings import Severity
from gradlint.lint import lint_file
from gradlint.registry import all_rules


def test_a_rule_raising_is_reported_on_its_file_and_the_others_run(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text("import torch.nn as nn\n\nnorm = nn.BatchNorm2d(64, 0.8)\n")

    def boom(summary: object, options: dict) -> list:
        raise RecursionError("maximum recursion depth exceeded")

    rules = [replace(all_rules()["GL215"], check=boom), all_rules()["GL107"]]
    findings = lint_file(path, str(path), rules, Settings(select=["GL215", "GL107"], root=tmp_path))
    assert [(f.code, f.line, f.severity) for f in findings] == [("GL215", 1, Severity.INFO), ("GL107", 3, Severity.WARNING)]
    assert findings[0].message.startswith("GL215 could not finish on this file (internal error: RecursionError")


CYCLE = {
    "pkg/__init__.py": "from pkg.loops import *\n",
    "pkg/loops.py": """\
from pkg import *


def fit(model, loader, criterion, optimizer):
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
""",
    "train.py": """\
import torch
import torch.nn as nn
from pkg.loops import fit

model = nn.Sequential(nn.Linear(8, 3), nn.Softmax(dim=1))
fit(model, [], nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1))
""",
}


def test_star_imports_in_a_cycle_are_read_once(tmp_path: Path) -> None:
    write_project(tmp_path, CYCLE)
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert finding.line == 6 and "hands it to `fit` (pkg/loops.py:7), which feeds it to CrossEntropyLoss" in finding.message
