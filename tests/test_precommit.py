"""gradlint as a pre-commit hook, driven by the real `pre-commit` tool on a temporary
git repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent
PRE_COMMIT = shutil.which("pre-commit", path=str(BIN)) or shutil.which("pre-commit")
LOOP = """\
for x, y in loader:
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
"""
FIXED = LOOP.replace("    loss = ", "    optimizer.zero_grad()\n    loss = ")
# the README's full check: the project's own environment, gradlint from PATH
LOCAL_CONFIG = """\
repos:
  - repo: local
    hooks:
      - id: gradlint
        name: gradlint
        entry: gradlint check
        language: system
        types_or: [python, pyi]
        require_serial: true
"""

pytestmark = pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is part of the test extra")


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "NO_COLOR": "1",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    }


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _repository(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "project"
    repo.mkdir()
    env = _env(tmp_path)
    assert _run(["git", "init", "-q"], repo, env).returncode == 0
    return repo, env


def test_published_manifest_is_valid():
    result = _run([PRE_COMMIT, "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")], ROOT, dict(os.environ))
    assert result.returncode == 0, result.stdout + result.stderr


def test_local_hook_blocks_the_commit_then_lets_the_fix_through(tmp_path):
    repo, env = _repository(tmp_path)
    (repo / ".pre-commit-config.yaml").write_text(LOCAL_CONFIG)
    installed = _run([PRE_COMMIT, "install"], repo, env)
    assert installed.returncode == 0, installed.stderr
    (repo / "train.py").write_text(LOOP)
    (repo / "notes.txt").write_text("not python: the hook must not see it\n")
    _run(["git", "add", "."], repo, env)

    blocked = _run(["git", "commit", "-q", "-m", "train"], repo, env)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0
    assert "gradlint" in output and "Failed" in output
    assert "train.py:1:1: GL206" in output and "training loop calls backward() and optimizer.step()" in output
    assert "[*] 1 fixable: add `args: [--fix]` to the gradlint hook" in output  # says where the flag goes
    assert "notes.txt" not in output
    assert _run(["git", "rev-parse", "--verify", "HEAD"], repo, env).returncode != 0  # nothing committed

    (repo / "train.py").write_text(FIXED)
    _run(["git", "add", "train.py"], repo, env)
    passed = _run(["git", "commit", "-q", "-m", "train"], repo, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "gradlint...." in passed.stderr and "Passed" in passed.stderr  # hooks print via git's stderr
    log = _run(["git", "log", "--format=%s", "--name-only"], repo, env).stdout
    assert "train.py" in log


def test_published_hook_through_try_repo(tmp_path):
    """The light hook exactly as users get it: pre-commit builds its own virtualenv and
    pip-installs this checkout into it (needs the package registry for the build backend)."""
    if not (ROOT / ".git").exists():
        pytest.skip("try-repo needs this checkout to be a git repository")
    repo, env = _repository(tmp_path)
    (repo / "train.py").write_text(LOOP)
    (repo / "clean.py").write_text(FIXED)
    _run(["git", "add", "."], repo, env)
    failing = _run([PRE_COMMIT, "try-repo", str(ROOT), "gradlint", "--all-files"], repo, env, timeout=300)
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    assert "train.py:1:1: GL206" in output
    assert "clean.py" not in output
    assert "Found 1 error." in output


def test_readme_rev_advice_autoupdate_pins_a_commit_sha(tmp_path):
    """The README says: write `rev: main`, run `pre-commit autoupdate`; with no release
    tag it must pin the full SHA of the newest commit (pre-commit needs an immutable rev)."""
    if not (ROOT / ".git").exists():
        pytest.skip("autoupdate needs this checkout to be a git repository")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "    rev: main    # then run `pre-commit autoupdate`" in readme
    repo, env = _repository(tmp_path)
    config = repo / ".pre-commit-config.yaml"
    config.write_text(f"repos:\n  - repo: {ROOT}\n    rev: main\n    hooks:\n      - id: gradlint\n")
    updated = _run([PRE_COMMIT, "autoupdate"], repo, env, timeout=120)
    assert updated.returncode == 0, updated.stdout + updated.stderr
    head = _run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], repo, env).stdout.strip()
    tags = _run(["git", "-C", str(ROOT), "tag", "--list"], repo, env).stdout.split()
    rev = re.search(r"rev: (\S+)", config.read_text()).group(1)
    assert rev == head or rev in tags, config.read_text()
    assert tags or re.fullmatch(r"[0-9a-f]{40}", rev)


def test_readme_pre_commit_configs_validate_and_the_probe_hook_is_verbose(tmp_path):
    import yaml

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if b.lstrip().startswith(("repos:", "# .pre-commit"))]
    assert len(blocks) == 2
    for index, block in enumerate(blocks):
        path = tmp_path / f"config{index}.yaml"
        path.write_text(block)
        checked = _run([PRE_COMMIT, "validate-config", str(path)], tmp_path, dict(os.environ))
        assert checked.returncode == 0, checked.stdout + checked.stderr
    hooks = {h["id"]: h for repo in yaml.safe_load(blocks[1])["repos"] for h in repo["hooks"]}
    assert hooks["gradlint-probe"]["stages"] == ["manual"] and hooks["gradlint-probe"]["verbose"] is True
