"""The cache answers unchanged files and never answers changed ones; --jobs never
changes the output."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_gradlint

from gradlint.cache import CACHE_DIR_NAME, model_key
from gradlint.jobs import workers_for

LOOP = """\
for x, y in loader:
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
"""
POISON = "answered from the cache"


def _all_entries(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR_NAME).glob("*/*.json"))


def _entries(root: Path) -> list[Path]:
    """Source entries: one list of findings per file."""
    return [e for e in _all_entries(root) if isinstance(json.loads(e.read_text()), list)]


def _poison(root: Path) -> None:
    """Rewrite every cached finding's message, so a cache hit shows in the output."""
    for entry in _entries(root):
        findings = json.loads(entry.read_text())
        for finding in findings:
            finding["message"] = POISON
        entry.write_text(json.dumps(findings))


def _project(tmp_path: Path, config: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.gradlint]\n{config}")
    (tmp_path / "train.py").write_text(LOOP)
    (tmp_path / "clean.py").write_text("x = 1\n")
    return tmp_path


def test_first_run_writes_a_tagged_cache_and_second_run_reads_it(tmp_path):
    root = _project(tmp_path)
    first = run_gradlint("train.py", "clean.py", cwd=root)
    assert first.returncode == 1 and "train.py:1:1: GL206" in first.stdout
    tag = (root / CACHE_DIR_NAME / "CACHEDIR.TAG").read_text()
    assert tag.startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert len(_entries(root)) == 2  # one entry per file, the clean one too
    _poison(root)
    second = run_gradlint("train.py", "clean.py", cwd=root)
    assert second.returncode == 1
    assert f"train.py:1:1: GL206 [*] {POISON}" in second.stdout


def test_changed_file_is_linted_again(tmp_path):
    root = _project(tmp_path)
    run_gradlint("train.py", cwd=root)
    _poison(root)
    (root / "train.py").write_text("import torch\n\n" + LOOP)
    after = run_gradlint("train.py", cwd=root)
    assert POISON not in after.stdout
    assert "train.py:3:1: GL206 [*] training loop calls backward()" in after.stdout


def test_changed_config_lints_again(tmp_path):
    root = _project(tmp_path)
    run_gradlint("train.py", cwd=root)
    _poison(root)
    # a per-file ignore for another file changes no finding, but the key must change
    (root / "pyproject.toml").write_text('[tool.gradlint]\nper-file-ignores = { "other.py" = ["GL2"] }\n')
    after = run_gradlint("train.py", cwd=root)
    assert POISON not in after.stdout and "training loop calls backward()" in after.stdout
    (root / "pyproject.toml").write_text('[tool.gradlint]\nper-file-ignores = { "train.py" = ["GL206"] }\n')
    ignored = run_gradlint("train.py", cwd=root)
    assert ignored.returncode == 0 and "GL206" not in ignored.stdout


def test_changed_selection_lints_again(tmp_path):
    root = _project(tmp_path)
    run_gradlint("train.py", "--select", "GL0", cwd=root)  # GL206 not selected: cached as clean
    everything = run_gradlint("train.py", cwd=root)
    assert "train.py:1:1: GL206" in everything.stdout


def test_no_cache_neither_reads_nor_writes(tmp_path):
    root = _project(tmp_path)
    run_gradlint("train.py", "--no-cache", cwd=root)
    assert not (root / CACHE_DIR_NAME).exists()
    run_gradlint("train.py", cwd=root)
    _poison(root)
    bypass = run_gradlint("train.py", "--no-cache", cwd=root)
    assert POISON not in bypass.stdout and "training loop calls backward()" in bypass.stdout


def test_corrupt_entry_is_a_miss_not_an_error(tmp_path):
    root = _project(tmp_path)
    run_gradlint("train.py", cwd=root)
    for entry in _entries(root):
        entry.write_text("{not json")
    again = run_gradlint("train.py", cwd=root)
    assert again.returncode == 1 and "training loop calls backward()" in again.stdout and not again.stderr


def test_read_only_project_still_lints(tmp_path):
    root = _project(tmp_path)
    (root / CACHE_DIR_NAME).write_text("a file where the cache folder should be")
    result = run_gradlint("train.py", cwd=root)
    assert result.returncode == 1 and "GL206" in result.stdout and not result.stderr


def test_clean_removes_the_cache(tmp_path):
    root = _project(tmp_path)
    run_gradlint("train.py", cwd=root)
    assert (root / CACHE_DIR_NAME).is_dir()
    result = run_gradlint("clean", cwd=root)
    assert result.returncode == 0
    assert not (root / CACHE_DIR_NAME).exists()
    assert "Removing cache at:" in result.stderr


def test_model_key_follows_imported_local_modules():
    base = dict(settings_part={"probe": {"seed": 0}}, torch_version="2.13.0", device="cpu", seed=0)
    key = model_key("model.py:build", [b"import layers", b"def block(): ..."], **base)
    assert key == model_key("model.py:build", [b"def block(): ...", b"import layers"], **base)
    assert key != model_key("model.py:build", [b"import layers", b"def block(): pass"], **base)
    assert key != model_key("model.py:build", [b"import layers", b"def block(): ..."], **{**base, "seed": 1})
    assert key != model_key("model.py:build", [b"import layers", b"def block(): ..."], **{**base, "device": "cuda"})
    assert key != model_key(
        "model.py:build", [b"import layers", b"def block(): ..."], **{**base, "torch_version": "2.12.0"}
    )


def test_pool_only_for_enough_files():
    assert workers_for(1, 8) == 1  # a one-file pre-commit run stays in-process
    assert workers_for(200, 1) == 1
    assert workers_for(200, 4) == 4
    assert workers_for(40, 8) == 5  # at least a few files per worker


def test_output_is_identical_whatever_the_jobs(tmp_path):
    for i in range(60):
        folder = tmp_path / f"pkg{i % 3}"
        folder.mkdir(exist_ok=True)
        body = LOOP if i % 2 else LOOP.replace("    loss.backward", "    optimizer.zero_grad()\n    loss.backward")
        (folder / f"train_{i:02d}.py").write_text(body if i % 7 else "def broken(:\n")
    outputs = {}
    for jobs in ("1", "2", "3"):
        for fmt in ("text", "json"):
            result = run_gradlint(".", "--no-cache", "--jobs", jobs, "--output-format", fmt, cwd=tmp_path)
            assert result.returncode == 1 and not result.stderr
            outputs.setdefault(fmt, set()).add(result.stdout)
    assert len(outputs["text"]) == 1 and len(outputs["json"]) == 1
    text = outputs["text"].pop()
    assert text.count("GL206") == 30 - 4 and text.count("GL001") == 9  # i % 7 == 0 files do not parse


def test_bad_jobs_value_is_a_usage_error(tmp_path):
    result = run_gradlint(".", "--jobs", "0", cwd=tmp_path)
    assert result.returncode == 2 and "expected a positive integer" in result.stderr


LAYERS = """\
from torch import nn


def block(width):
    return nn.Sequential(nn.Linear(width, width), nn.Tanh())
"""
MODEL = """\
from torch import nn

from layers import block


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(block(16), block(16), block(16), block(16))

    def forward(self, x):
        return self.body(x)
"""


def _model_entries(root: Path) -> list[Path]:
    """Model entries: the run's model findings and per-model summaries."""
    return [e for e in _all_entries(root) if isinstance(json.loads(e.read_text()), dict)]


def test_model_results_are_cached_and_follow_imported_local_modules(tmp_path):
    root = _project(tmp_path)
    (root / "layers.py").write_text(LAYERS)
    (root / "model.py").write_text(MODEL)
    first = run_gradlint("model.py", "--no-probe", cwd=root)
    assert "layers.py:5:51: GL101 3 saturating activations (tanh)" in first.stdout
    [entry] = _model_entries(root)
    data = json.loads(entry.read_text())
    data["findings"][0]["message"] = POISON
    entry.write_text(json.dumps(data))
    second = run_gradlint("model.py", "--no-probe", cwd=root)
    assert f"layers.py:5:51: GL101 {POISON}" in second.stdout  # the worker did not run
    # model.py is unchanged; the module it imports changes: the model is analysed again
    (root / "layers.py").write_text(LAYERS.replace("nn.Tanh()", "nn.ReLU()"))
    third = run_gradlint("model.py", "--no-probe", cwd=root)
    assert third.returncode == 0 and "GL101" not in third.stdout


def test_failed_models_are_not_cached(tmp_path):
    root = _project(tmp_path)
    (root / "model.py").write_text("import package_that_is_not_installed\n" + MODEL.replace("from layers import block\n", ""))
    result = run_gradlint("model.py", "--no-probe", cwd=root)
    assert "GL002" in result.stdout
    assert _model_entries(root) == []


NETS = """import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
    def forward(self, x):
        return nn.functional.softmax(self.fc(x), dim=1)
"""


def test_an_edited_imported_module_lints_the_importing_file_again(tmp_path):
    # GL215 reads the model's class in nets.py: a cache keyed on train.py alone would keep
    # the finding after the softmax is gone
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint]\n")
    (tmp_path / "nets.py").write_text(NETS)
    (tmp_path / "train.py").write_text("import torch.nn as nn\nfrom nets import Net\n\nnet = Net()\n"
                                       "ce = nn.CrossEntropyLoss()\nloss = ce(net(x), y)\nloss.backward()\n")
    first = run_gradlint("train.py", "--select", "GL215", "--no-exec", cwd=tmp_path)
    assert "train.py:6:8: GL215" in first.stdout
    (tmp_path / "nets.py").write_text(NETS.replace("nn.functional.softmax(self.fc(x), dim=1)", "self.fc(x)"))
    second = run_gradlint("train.py", "--select", "GL215", "--no-exec", cwd=tmp_path)
    assert second.returncode == 0 and "GL215" not in second.stdout


def test_an_edited_imported_module_outside_the_root_lints_the_importing_file_again(tmp_path):
    # ``gradlint check ../other/project`` from a folder with no config: the root is the
    # working folder, but the rules still read nets.py beside train.py, so the key must too
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "nets.py").write_text(NETS)
    (project / "train.py").write_text("import torch.nn as nn\nfrom nets import Net\n\nnet = Net()\n"
                                      "ce = nn.CrossEntropyLoss()\nloss = ce(net(x), y)\nloss.backward()\n")
    first = run_gradlint(str(project / "train.py"), "--select", "GL215", "--no-exec", cwd=elsewhere)
    assert "train.py:6:8: GL215" in first.stdout
    (project / "nets.py").write_text(NETS.replace("nn.functional.softmax(self.fc(x), dim=1)", "self.fc(x)"))
    second = run_gradlint(str(project / "train.py"), "--select", "GL215", "--no-exec", cwd=elsewhere)
    assert second.returncode == 0 and "GL215" not in second.stdout
