"""--fix and --diff: fixed files parse, re-lint clean, are stable under a second fix,
and are written safely (atomically, keeping encoding, line endings and permissions)."""

from __future__ import annotations

import ast
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gradlint.config import Settings
from gradlint.fix.apply import fix_text, write_atomic
from gradlint.runner import active_rules, lint_file

TRAIN = Path(__file__).resolve().parent.parent / "fixtures" / "train"

MISSING_ZERO_GRAD = (
    "import torch\n"
    "for x, y in loader:\n"
    "    loss = loss_fn(model(x), y)\n"
    "    loss.backward()\n"
    "    optimizer.step()\n"
)


def _lint(path: Path, root: Path) -> list:
    settings = Settings(select=["GL2"], root=root)
    return lint_file(path, str(path), active_rules(settings), settings)


def _fixable_fixtures() -> list[Path]:
    return [p for p in sorted(TRAIN.rglob("*.py")) if any(f.fix for f in _lint(p, TRAIN))]


@pytest.mark.parametrize("fixture", _fixable_fixtures(), ids=lambda p: str(p.relative_to(TRAIN)))
def test_fixture_fix_parses_relints_clean_and_is_idempotent(tmp_path, fixture):
    shutil.copytree(fixture.parent, tmp_path / "project")
    path = tmp_path / "project" / fixture.name
    before = _lint(path, tmp_path)
    fixed_codes = {f.code for f in before if f.fix}
    settings = Settings(select=["GL2"], root=tmp_path)
    text, count = fix_text(str(path), path.read_text(), settings)
    assert count >= len([f for f in before if f.fix])
    ast.parse(text)
    path.write_text(text)
    assert not {f.code for f in _lint(path, tmp_path)} & fixed_codes
    assert fix_text(str(path), text, settings) == (text, 0)


def test_ambiguous_shape_gets_no_fix(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(MISSING_ZERO_GRAD.replace("    optimizer.step()\n", "    if ok: optimizer.step()\n"))
    findings = _lint(path, tmp_path)
    assert [(f.code, f.fix) for f in findings] == [("GL206", None)]


def test_diff_prints_and_changes_nothing(tmp_path, gradlint):
    path = tmp_path / "train.py"
    path.write_text(MISSING_ZERO_GRAD)
    result = gradlint("--diff", "--no-cache", "train.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "+++ b/train.py" in result.stdout and "+    optimizer.zero_grad()" in result.stdout
    assert "Would fix 1 error." in result.stderr
    assert path.read_text() == MISSING_ZERO_GRAD
    path.write_text(MISSING_ZERO_GRAD.replace("for x, y in loader:\n", "for x, y in loader:\n    optimizer.zero_grad()\n"))
    clean = gradlint("--diff", "--no-cache", "train.py", cwd=tmp_path)
    assert (clean.returncode, clean.stdout) == (0, "")


def test_fix_keeps_crlf_encoding_and_permissions(tmp_path, gradlint):
    path = tmp_path / "train.py"
    source = "# -*- coding: latin-1 -*-\n# entraîné\n" + MISSING_ZERO_GRAD
    path.write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    os.chmod(path, 0o750)
    result = gradlint("--fix", "--no-cache", "train.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = path.read_bytes()
    assert b"# entra\xeen\xe9\r\n" in data
    assert data.count(b"\r\n") == data.count(b"\n") == 8
    assert b"    optimizer.step()\r\n    optimizer.zero_grad()\r\n" in data
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o750
    assert [p.name for p in tmp_path.iterdir()] == ["train.py"]  # no temporary file left behind


def test_fix_and_diff_count_lines_as_the_parser_does(tmp_path, gradlint):
    # a form feed and a U+2028 inside a string are not line breaks for Python
    source = "import torch\n\x0c# page two\nnote = 'a\u2028b'\n" + MISSING_ZERO_GRAD.replace("import torch\n", "")
    path = tmp_path / "train.py"
    path.write_text(source, encoding="utf-8")
    diff = gradlint("--diff", "--no-cache", "train.py", cwd=tmp_path)
    assert "@@ -5,3 +5,4 @@" in diff.stdout, diff.stdout
    assert gradlint("--fix", "--no-cache", "train.py", cwd=tmp_path).returncode == 0
    assert path.read_text(encoding="utf-8") == source + "    optimizer.zero_grad()\n"


def test_fix_keeps_byte_order_mark(tmp_path, gradlint):
    path = tmp_path / "train.py"
    path.write_bytes(b"\xef\xbb\xbf" + MISSING_ZERO_GRAD.encode())
    assert gradlint("--fix", "--no-cache", "train.py", cwd=tmp_path).returncode == 0
    assert path.read_bytes().startswith(b"\xef\xbb\xbfimport torch\n")


def test_write_skips_a_file_changed_since_it_was_read(tmp_path):
    path = tmp_path / "train.py"
    path.write_text("edited by the user meanwhile\n")
    problem = write_atomic(path, b"what gradlint read\n", b"fixed\n")
    assert problem is not None and "changed on disk" in problem
    assert path.read_text() == "edited by the user meanwhile\n"
    assert [p.name for p in tmp_path.iterdir()] == ["train.py"]


def test_gl201_fix_uses_configured_max_norm(tmp_path, gradlint):
    (tmp_path / "pyproject.toml").write_text('[tool.gradlint.rules.GL201]\nmax-norm = 0.25\n')
    path = tmp_path / "train.py"
    path.write_text(
        "import torch\nmodel = torch.nn.GRU(4, 4)\noptimizer = torch.optim.SGD(model.parameters(), lr=1)\n"
        + MISSING_ZERO_GRAD.split("\n", 1)[1].replace("loop:\n", "loop:\n    optimizer.zero_grad()\n")
    )
    result = gradlint("--fix", "--no-cache", "train.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.25)\n    optimizer.step()\n" in path.read_text()


def test_source_only_fix_run_imports_neither_torch_nor_libcst(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(MISSING_ZERO_GRAD)
    code = (
        "import sys; from gradlint.cli import main; rc = main(['--fix', '--no-exec', '--no-cache', '-q', sys.argv[1]]);"
        "print(rc, 'torch' in sys.modules, 'libcst' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip().splitlines()[-1] == "0 False False", out.stdout + out.stderr


def test_diff_of_an_absolute_path_names_the_file(tmp_path, gradlint):
    (tmp_path / "project").mkdir()
    (tmp_path / "elsewhere").mkdir()
    path = tmp_path / "project" / "train.py"
    path.write_text(MISSING_ZERO_GRAD)
    result = gradlint("--diff", "--no-cache", str(path), cwd=tmp_path / "elsewhere")
    assert result.returncode == 1, result.stderr
    assert f"--- {path}\n+++ {path}\n" in result.stdout


def test_fix_leaves_a_read_only_file_alone(tmp_path, gradlint):
    path = tmp_path / "train.py"
    path.write_text(MISSING_ZERO_GRAD)
    os.chmod(path, 0o444)
    result = gradlint("--fix", "--no-cache", "train.py", cwd=tmp_path)
    assert path.read_text() == MISSING_ZERO_GRAD
    assert "train.py: read-only; not written" in result.stderr
    assert result.returncode == 1 and "GL206" in result.stdout


SCHEDULER_FIRST = (
    "import torch\n"
    "scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)\n"
    "for x, y in loader:\n"
    "    optimizer.zero_grad()\n"
    "    loss_fn(model(x), y).backward()\n"
    "    scheduler.step()\n"
    "    optimizer.step()\n"
)


def test_fix_summary_names_the_severity_it_fixed(tmp_path, gradlint):
    # GL209 is informational: "Fixed 1 error." would overstate it
    (tmp_path / "train.py").write_text(SCHEDULER_FIRST)
    result = gradlint("--fix", "--no-cache", "--no-exec", "train.py", cwd=tmp_path)
    assert "Fixed 1 info finding in 1 file." in result.stderr, result.stderr
    (tmp_path / "both.py").write_text(SCHEDULER_FIRST.replace("    optimizer.zero_grad()\n", ""))
    both = gradlint("--diff", "--no-cache", "--no-exec", "both.py", cwd=tmp_path)
    assert "Would fix 1 error and 1 info finding." in both.stderr, both.stderr
