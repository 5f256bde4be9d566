"""The worker as a user meets it, through the real command in a subprocess: hostile or
broken model code ends as GL002 with the reason and time, the others are still
analysed; no torch means one GL002 line; --no-exec imports nothing; the main process
never imports torch."""

from __future__ import annotations

import json
import re
import sys
import textwrap
import time

import pytest

from conftest import run_gradlint

HEADER = "import torch\nimport torch.nn as nn\n\n"
HOSTILE = {
    "hang.py": "class Hang(nn.Module):\n    def __init__(self):\n        super().__init__()\n        while True:\n            pass\n",
    "segfault.py": "import ctypes\n\nclass Crash(nn.Module):\n    def __init__(self):\n        super().__init__()\n        ctypes.string_at(0)\n",
    "hard_exit.py": "import os\n\nclass HardExit(nn.Module):\n    def __init__(self):\n        super().__init__()\n        os._exit(7)\n",
    "soft_exit.py": "import sys\n\ndef build():\n    sys.exit(3)\n",
    "memory.py": "class Hog(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.big = torch.empty(2**40, dtype=torch.uint8)\n",
    "noisy.py": (
        "import os, threading\n\nprint('x' * 5_000_000)\nos.chdir('/')\n"
        "threading.Thread(target=lambda: __import__('time').sleep(600)).start()\n\n"
        "class Noisy(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.rnn = nn.RNN(4, 4)\n\n"
        "    def forward(self, x):\n        print('y' * 1_000_000)\n        return self.rnn(x)[0]\n"
    ),
    "import_error.py": "import not_a_module_xyz\n\nclass A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n",
    "import_hang.py": "while True:\n    pass\n\nclass D(nn.Module):\n    def __init__(self):\n        super().__init__()\n",
    "init_raises.py": "class B(nn.Module):\n    def __init__(self):\n        super().__init__()\n        raise ValueError('needs a config file')\n",
    "forward_hang.py": (
        "class E(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n"
        "    def forward(self, x):\n        while True:\n            x = x + 1\n"
    ),
    "forward_raises.py": (
        "class C(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(4, 4)\n\n"
        "    def forward(self, x):\n        raise RuntimeError('shape mismatch in forward')\n"
    ),
    "zfine.py": "class Fine(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.cell = nn.RNNCell(4, 4)\n\n    def forward(self, x):\n        return self.cell(x)\n",
}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "pyproject.toml").write_text("[tool.gradlint]\ntimeout = 4\nmemory-limit = 1024\n\n[tool.gradlint.probe]\ndevice = 'cpu'\n")
    for name, body in HOSTILE.items():
        (folder / name).write_text(HEADER + body)
    started = time.monotonic()
    completed = run_gradlint("--output-format", "json", ".", cwd=folder, timeout=180)
    return completed, time.monotonic() - started


def _finding(report, file, code="GL002"):
    found = [f for f in report["findings"] if f["path"] == file and f["code"] == code]
    assert len(found) == 1, (file, report["findings"])
    return found[0]


def test_hostile_models_end_as_gl002_and_the_run_goes_on(hostile_run):
    completed, seconds = hostile_run
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    report = json.loads(completed.stdout)
    assert "timed out after 4 s" in _finding(report, "hang.py")["message"]
    assert "SIGSEGV" in _finding(report, "segfault.py")["message"]
    assert "exited with code 7" in _finding(report, "hard_exit.py")["message"]
    assert "sys.exit(3)" in _finding(report, "soft_exit.py")["message"]
    assert "out of memory (limit 1024 MiB" in _finding(report, "memory.py")["message"]
    assert _finding(report, "memory.py")["severity"] == "info"  # the machine's limit, not the code: a notice
    # a package that is not installed: a notice about the environment, one per package
    missing = _finding(report, "import_error.py")
    assert missing["severity"] == "info" and missing["message"].startswith(
        "package 'not_a_module_xyz' is not installed here: 1 model(s) in 1 file(s) were not analysed (A)")
    assert "could not be imported: timed out after 4 s;" in _finding(report, "import_hang.py")["message"]
    assert "could not be built: ValueError: needs a config file (at init_raises.py:7)" in _finding(report, "init_raises.py")["message"]
    assert "timed out after 4 s" in _finding(report, "forward_hang.py")["message"]
    assert "RuntimeError: shape mismatch in forward" in _finding(report, "forward_raises.py")["message"]
    # prints, chdir and threads do not disturb the analysis: both RNNs are still found
    assert _finding(report, "noisy.py", "GL106")["line"] == 13
    assert _finding(report, "zfine.py", "GL106")["line"] == 7
    for finding in report["findings"]:
        if finding["code"] == "GL002" and not finding["message"].startswith("package "):
            assert re.search(r"(under 1 s|\d+ s)\)|timed out after \d+ s", finding["message"]), finding["message"]  # how long it took
    # 3 time-outs of 4 s and the worker restarts: bounded well below timeout x models
    assert seconds < 75


def test_without_torch_one_notice_no_finding_and_source_rules_still_run(tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "torch.py").write_text("raise ImportError(\"No module named 'torch'\")\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.py").write_text(HEADER + "class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n")
    (project / "b.py").write_text(HEADER + "def build():\n    return nn.Linear(2, 2)\n")
    (project / "train.py").write_text(
        "for x, y in loader:\n    loss = loss_fn(model(x), y)\n    loss.backward()\n    optimizer.step()\n"
    )
    completed = run_gradlint("--no-probe", ".", cwd=project, env={"PYTHONPATH": str(shim)})
    lines = completed.stdout.splitlines()
    assert not [l for l in lines if " GL002 " in l], completed.stdout  # the environment, not the user's code
    notices = [l for l in completed.stderr.splitlines() if l.startswith("gradlint: notice:")]
    assert len(notices) == 1 and "torch is not installed" in notices[0] and "2 model(s)" in notices[0], completed.stderr
    assert any(" GL206 " in l and l.startswith("train.py:") for l in lines)
    assert "Traceback" not in completed.stderr


def test_a_missing_package_is_not_told_to_install_torch(tmp_path):
    (tmp_path / "net.py").write_text(HEADER + "import seqlib_not_installed\n\nclass Net(nn.Module):\n"
                                     "    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(2, 2)\n")
    completed = run_gradlint("--no-probe", "--no-cache", ".", cwd=tmp_path)
    assert "seqlib_not_installed" in completed.stdout + completed.stderr
    assert "install torch" not in completed.stderr, completed.stderr  # torch is here; the package is not
    assert "Traceback" not in completed.stderr


CHECK_MAIN_PROCESS = textwrap.dedent(
    """
    import sys
    from gradlint.cli import main
    code = main(sys.argv[1:])
    print("TORCH" if "torch" in sys.modules else "NO-TORCH", code)
    """
)


@pytest.mark.parametrize("flags", [["--no-exec"], ["--select", "GL2"], ["--no-probe"]], ids=["no-exec", "source-only", "full"])
def test_main_process_never_imports_torch_or_user_code(tmp_path, flags):
    marker = tmp_path / "marker.txt"
    (tmp_path / "model.py").write_text(
        f"open({str(marker)!r}, 'w').write('imported')\n" + HEADER
        + "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.rnn = nn.RNN(2, 2)\n\n"
        + "    def forward(self, x):\n        return self.rnn(x)[0]\n"
    )
    import subprocess

    completed = subprocess.run(
        [sys.executable, "-c", CHECK_MAIN_PROCESS, "-q", *flags, str(tmp_path / "model.py")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert completed.stdout.strip().splitlines()[-1].startswith("NO-TORCH"), completed.stdout + completed.stderr
    if flags == ["--no-probe"]:
        assert marker.exists() and "GL106" in completed.stdout  # the worker imported it, not us
    else:
        assert not marker.exists()


def test_model_named_without_its_arguments_says_to_give_kwargs(tmp_path):
    (tmp_path / "fac.py").write_text(HEADER + "def build(depth):\n    return nn.Sequential(*[nn.Linear(4, 4) for _ in range(depth)])\n")
    completed = run_gradlint("--no-probe", "--no-cache", "--model", "fac.py:build", "fac.py", cwd=tmp_path)
    line = next(l for l in completed.stdout.splitlines() if " GL002 " in l)
    assert "missing 1 required positional argument: 'depth'" in line
    assert 'give its arguments as kwargs in the [[tool.gradlint.models]] entry for "fac.py:build"' in line
