"""One model file cannot disturb another's analysis: the worker runs each file in a
child forked from its torch-ready process (Linux), so what a file's code does to the
process (monkeypatching torch, closing stdout, lowering the recursion limit, a crash,
a forked process that lingers) stays with that file. One worker (``--jobs 1``) for all
files, so without the isolation the later files would see it. And a file that cannot
be imported is one GL002 for all its models, imported (or timed out) once."""

from __future__ import annotations

import json
import sys

import pytest

from conftest import run_gradlint

# elsewhere the worker runs every file in one process: only the crash isolation holds there
needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the worker forks per file on Linux only")

HEADER = "import os, sys, time\nimport torch\nimport torch.nn as nn\n\n"
TAIL = (
    "class {name}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    "        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n"
)
DISTURBING = {
    "a_patches_torch.py": "nn.Linear.forward = lambda self, x: 1 / 0\n\n",
    "b_closes_stdout.py": "os.close(1)\n\n",
    "c_recursion_limit.py": "sys.setrecursionlimit(40)\n\n",
    "d_lingering_fork.py": "if os.fork() == 0:\n    time.sleep(300)\n    os._exit(0)\n\n",
}
# writes to file descriptor 1 at import, which b_closes_stdout.py closed
LATER = "os.write(1, b'hello from the model file\\n')\n\n"


@pytest.fixture(scope="module")
def isolated_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("isolation")
    (folder / "pyproject.toml").write_text("[tool.gradlint]\ntimeout = 20\n\n[tool.gradlint.probe]\ndevice = 'cpu'\n")
    for index, (name, body) in enumerate(DISTURBING.items()):
        (folder / name).write_text(HEADER + body + TAIL.format(name=f"Model{index}"))
    (folder / "z_later.py").write_text(HEADER + LATER + TAIL.format(name="Later"))
    # the lingering fork holds the worker's pipes for 300 s: the run must not wait for it
    completed = run_gradlint("--jobs", "1", "--output-format", "json", ".", cwd=folder, timeout=90)
    return completed, json.loads(completed.stdout)


@needs_fork
def test_a_later_file_is_probed_as_if_it_ran_alone(isolated_run):
    completed, report = isolated_run
    assert "Traceback" not in completed.stderr
    later = next(m for m in report["models"] if m["name"] == "Later")
    assert later["probe"] is not None and later["probe"]["global_grad_norm"] > 0
    assert [f for f in report["findings"] if f["path"] == "z_later.py"] == []


@needs_fork
def test_only_the_patching_file_suffers_from_its_patch(isolated_run):
    _, report = isolated_run
    failing = sorted({f["path"] for f in report["findings"] if f["code"] == "GL002"})
    # a recursion limit of 40 is too low for its own model too; what matters is that it
    # ends there
    assert failing == ["a_patches_torch.py", "c_recursion_limit.py"]
    message = next(f["message"] for f in report["findings"] if f["path"] == "a_patches_torch.py")
    assert "ZeroDivisionError" in message


def test_a_crash_in_one_model_leaves_the_next_model_of_the_same_file(tmp_path):
    (tmp_path / "two.py").write_text(
        HEADER
        + "class Crashes(nn.Module):\n    def __init__(self):\n        super().__init__()\n        os._exit(9)\n\n"
        + TAIL.format(name="Survives")
    )
    completed = run_gradlint("--jobs", "1", "--no-cache", "--output-format", "json", "two.py", cwd=tmp_path)
    report = json.loads(completed.stdout)
    assert [(f["code"], f["line"]) for f in report["findings"]] == [("GL002", 5)]
    assert "exited with code 9" in report["findings"][0]["message"]
    assert [m["name"] for m in report["models"] if m.get("probe")] == ["Survives"]


def test_without_fork_the_worker_still_isolates_crashes(tmp_path):
    (tmp_path / "a_exit.py").write_text(HEADER + "os._exit(4)\n\n" + TAIL.format(name="Gone"))
    (tmp_path / "b_fine.py").write_text(HEADER + TAIL.format(name="Fine"))
    completed = run_gradlint(
        "--jobs", "1", "--no-cache", "--output-format", "json", ".", cwd=tmp_path, env={"GRADLINT_NO_FORK": "1"}
    )
    report = json.loads(completed.stdout)
    assert [(f["path"], f["code"]) for f in report["findings"]] == [("a_exit.py", "GL002")]
    assert "exited with code 4" in report["findings"][0]["message"]
    assert [m["name"] for m in report["models"] if m.get("probe")] == ["Fine"]


THREE_MODELS = "".join(TAIL.format(name=name) + "\n\n" for name in ("First", "Second", "Third"))


@pytest.mark.parametrize("module_code, reason", [
    ("import not_installed_xyz\n\n", "could not be imported: "),  # a package missing: see below
    ("while True:\n    pass\n\n", "could not be imported: timed out after 3 s"),
    ("os._exit(5)\n\n", "could not be imported: the process exited with code 5"),
])
def test_a_file_that_cannot_be_imported_is_one_finding_for_all_its_models(tmp_path, module_code, reason):
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\ntimeout = 3\n")
    (tmp_path / "models.py").write_text(HEADER + module_code + THREE_MODELS)
    (tmp_path / "other.py").write_text(HEADER + TAIL.format(name="Other"))
    completed = run_gradlint("--jobs", "1", "--no-cache", "--output-format", "json", ".", cwd=tmp_path, timeout=60)
    report = json.loads(completed.stdout)
    first_class_line = (HEADER + module_code).count("\n") + 1
    assert [(f["path"], f["code"], f["line"]) for f in report["findings"]] == [("models.py", "GL002", first_class_line)]
    message = report["findings"][0]["message"]
    if "not_installed_xyz" in module_code:  # the environment, not the code: one notice per package
        assert message.startswith("package 'not_installed_xyz' is not installed here: 3 model(s) in 1 file(s) were "
                                  "not analysed (First, Second, Third)"), message
        assert report["findings"][0]["severity"] == "info"
        assert sorted(m["name"] for m in report["models"] if m.get("status") == "not analysed") == ["First", "Second", "Third"]
        return
    assert message.startswith("3 models ('First', 'Second', 'Third') " + reason), message
    assert sorted(m["name"] for m in report["models"] if m.get("status") == "failed") == ["First", "Second", "Third"]
    assert [m["name"] for m in report["models"] if m.get("probe")] == ["Other"]


@needs_fork
def test_half_an_event_from_a_dying_model_does_not_reach_the_user(tmp_path):
    # the model writes the start of an event on the worker's result pipe and dies, as a
    # child killed in the middle of sending a large result would leave it
    dying = "os.write(int(os.environ['GRADLINT_RESULT_FD']), b'{\"event\": \"result\", \"ind')\nos._exit(1)\n\n"
    (tmp_path / "a_dies_mid_write.py").write_text(HEADER + dying + TAIL.format(name="Dies"))
    (tmp_path / "b_fine.py").write_text(HEADER + TAIL.format(name="Fine"))
    completed = run_gradlint("--jobs", "1", "--no-cache", "--output-format", "json", ".", cwd=tmp_path)
    assert "Traceback" not in completed.stderr, completed.stderr
    report = json.loads(completed.stdout)
    assert [(f["path"], f["code"]) for f in report["findings"]] == [("a_dies_mid_write.py", "GL002")]
    assert "exited with code 1" in report["findings"][0]["message"]
    assert [m["name"] for m in report["models"] if m.get("probe")] == ["Fine"]


def test_ignore_gl002_by_name_silences_a_build_failure_but_a_narrow_select_does_not(tmp_path):
    (tmp_path / "broken.py").write_text(
        HEADER + "class Broken(nn.Module):\n    def __init__(self):\n        super().__init__()\n        raise ValueError('no config')\n"
    )
    plain = json.loads(run_gradlint("--no-cache", "--output-format", "json", "--select", "GL1", "broken.py", cwd=tmp_path).stdout)
    assert [(f["code"], f["line"]) for f in plain["findings"]] == [("GL002", 5)]
    assert "ValueError: no config" in plain["findings"][0]["message"]
    ignored = json.loads(run_gradlint("--no-cache", "--output-format", "json", "--ignore", "GL002", "broken.py", cwd=tmp_path).stdout)
    assert ignored["findings"] == []
    assert [m["status"] for m in ignored["models"]] == ["failed"]  # still said in the models summary
