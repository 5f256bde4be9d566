"""The training-code rules on realistic training scripts (fixtures/train/).

Each fixture marks every line that must be reported with ``# expect: GLxxx``; a
fixture without markers must be clean. The test compares the exact set of
(code, line) pairs, so a false alarm fails as surely as a miss.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gradlint.config import Settings
from gradlint.runner import active_rules, lint_file

TRAIN = Path(__file__).resolve().parent.parent / "fixtures" / "train"
_EXPECT = re.compile(r"#\s*expect:\s*(GL\d{3}(?:\s*,\s*GL\d{3})*)")
SCRIPTS = sorted(p for p in TRAIN.rglob("*.py"))


def expected(path: Path) -> set[tuple[str, int]]:
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            found |= {(code.strip(), number) for code in match.group(1).split(",")}
    return found


def test_fixture_set_is_big_and_balanced():
    training = [p for p in SCRIPTS if "backward" in p.read_text() or "Trainer" in p.read_text()]
    clean = [p for p in training if not expected(p)]
    assert len(training) >= 25
    assert len(clean) * 3 >= len(training)  # at least a third (here about half) are correct loops
    codes = {code for p in training for code, _ in expected(p)}
    assert codes == {"GL201", "GL202", "GL203", "GL204", "GL205", "GL206"}


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(TRAIN)))
def test_fixture_reports_exactly_its_expected_lines(path):
    settings = Settings(select=["GL2"], root=TRAIN)
    findings = lint_file(path, str(path), active_rules(settings), settings)
    assert {(f.code, f.line) for f in findings} == expected(path), [f"{f.code}:{f.line} {f.message}" for f in findings]


def test_gl203_message_names_the_stepped_optimizer(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\n"
        "class Trainer:\n"
        "    def train(self, loader):\n"
        "        for batch in loader:\n"
        "            self.opt.zero_grad()\n"
        "            self.scaler.scale(self.model(batch).loss).backward()\n"
        "            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)\n"
        "            self.scaler.step(self.opt)\n"
        "            self.scaler.update()\n"
    )
    settings = Settings(select=["GL203"], root=tmp_path)
    [finding] = lint_file(path, "train.py", active_rules(settings), settings)
    assert finding.line == 7 and "call self.scaler.unscale_(self.opt) before clipping" in finding.message
