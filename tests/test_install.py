"""The README's install line installs this project: the distribution is torch-gradlint
(PyPI's `gradlint` is an unrelated project), the command is still `gradlint`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_no_install_command_names_the_other_projects_distribution():
    blocks = "\n".join(re.findall(r"```\w*\n(.*?)```", README, re.S))  # what users copy
    commands = re.findall(r"pip install [^\n`]*", blocks)
    assert commands
    for command in commands:
        assert not re.search(r"pip install (-U )?['\"]?gradlint\b", command), command  # PyPI's gradlint is another tool
        assert "\"gradlint[" not in command and "'gradlint[" not in command, command
    assert re.search(r'^name = "torch-gradlint"$', PYPROJECT, re.M)
    assert 'gradlint = "gradlint.cli:main"' in PYPROJECT  # the command keeps its name


def test_readme_install_line_in_a_fresh_virtual_environment(tmp_path):
    line = next(l for l in README.splitlines() if l.startswith("pip install . "))
    target = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / "bin" / "python"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    # the README's command, run in the checkout it tells you to clone
    args = line.split("#")[0].split()[2:]
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", *args], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    version = subprocess.run([str(target / "bin" / "gradlint"), "--version"], capture_output=True, text=True,
                             cwd=tmp_path, env=env, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("gradlint "), version.stderr
    shown = subprocess.run([str(python), "-m", "pip", "show", "torch-gradlint"], capture_output=True, text=True, env=env)
    assert "Name: torch-gradlint" in shown.stdout
    imported = subprocess.run([str(python), "-c", "import gradlint.rules, gradlint.cli; print(gradlint.__file__)"],
                              capture_output=True, text=True, cwd=tmp_path, env=env)
    assert str(target) in imported.stdout, (imported.stdout, imported.stderr, sys.prefix)  # the installed copy
