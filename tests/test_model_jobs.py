"""--jobs N for models: whole model files spread over up to N worker processes, results
merged by candidate index (the same as one worker), a crash in one worker's file costs
no other model, and one file's folder never shadows another file's imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradlint.config import Settings
from gradlint.model import pool
from gradlint.model.analyze import collect
from gradlint.model.pool import plan_workers

MODEL = "import torch.nn as nn\n\n\nclass {name}(nn.Module):\n    def __init__(self):\n        super().__init__()\n" \
        "        self.fc = nn.Linear({width}, 4)\n\n    def forward(self, x):\n        return self.fc(x)\n"


def candidates(files: list[str]) -> list[dict]:
    return [{"file": f, "index": i} for i, f in enumerate(files)]


def test_plan_keeps_a_file_in_one_worker_and_balances_the_rest():
    listed = candidates(["a.py", "a.py", "a.py", "b.py", "c.py", "c.py", "d.py"])
    groups = plan_workers(listed, 2)
    assert [[c["index"] for c in g] for g in groups] == [[0, 1, 2, 6], [3, 4, 5]]
    assert plan_workers(listed, 1) == [listed]
    assert plan_workers(candidates(["a.py", "a.py"]), 8) == [candidates(["a.py", "a.py"])]  # one file: one torch import
    assert len(plan_workers(listed, 16)) == 4  # never more workers than files
    assert plan_workers([], 4) == []


def test_torch_threads_depend_on_cores_and_model_files_never_on_jobs(monkeypatch):
    monkeypatch.setattr(pool, "_cores", lambda: 16)
    assert pool.torch_threads(candidates(["a.py"])) is None  # one model: torch's default
    assert pool.torch_threads(candidates(["a.py", "a.py"])) == 8  # one file, its two models in two processes
    assert pool.torch_threads(candidates(["a.py", "b.py", "c.py"])) == 5
    assert pool.torch_threads(candidates([f"{i}.py" for i in range(40)])) == 1
    monkeypatch.setattr(pool, "_cores", lambda: 2)
    assert pool.torch_threads(candidates(["a.py", "b.py", "c.py"])) == 1


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint.probe]\ndevice = 'cpu'\n")
    for i, width in enumerate((8, 16, 32)):
        (tmp_path / f"m{i}.py").write_text(MODEL.format(name=f"Net{i}", width=width))
    (tmp_path / "m3.py").write_text(MODEL.format(name="Crash", width=4).replace(
        "super().__init__()\n", "super().__init__()\n        import os; os._exit(7)\n"))
    return tmp_path


def _collect(project: Path, jobs: int, monkeypatch) -> tuple[list, list[list[str]]]:
    calls: list[list[str]] = []
    real = pool.run_worker

    def recording(group, job, timeout):
        calls.append(sorted({Path(c["file"]).name for c in group}))
        jobs_seen.append((job["threads"], job["user_folders"]))
        return real(group, job, timeout)

    jobs_seen: list = []

    monkeypatch.setattr(pool, "run_worker", recording)
    monkeypatch.chdir(project)
    settings = Settings(root=project)
    files = [(p, p.name) for p in sorted(project.glob("m*.py"))]
    collected = collect(files, settings, jobs=jobs)
    assert len(set(map(str, jobs_seen))) == 1  # every worker gets the same threads and user folders
    return collected, calls


def _comparable(result) -> dict:
    """A result less its wall-clock times and memory."""
    kept = {k: v for k, v in result.to_dict().items() if k not in ("seconds", "timings", "memory")}
    if isinstance(kept.get("probe"), dict):
        kept["probe"] = {k: v for k, v in kept["probe"].items() if k != "seconds"}
    return kept


def test_models_spread_over_workers_give_the_one_worker_results(project, monkeypatch):
    pytest.importorskip("torch")
    serial, serial_calls = _collect(project, 1, monkeypatch)
    spread, spread_calls = _collect(project, 2, monkeypatch)
    assert serial_calls[0] == ["m0.py", "m1.py", "m2.py", "m3.py"]
    # two workers, each with whole files; the crash restarts only its own worker
    assert sorted(spread_calls[:2]) == [["m0.py", "m2.py"], ["m1.py", "m3.py"]]
    statuses = [(c.callable, r.status) for c, r in spread]
    assert statuses == [("Net0", "ok"), ("Net1", "ok"), ("Net2", "ok"), ("Crash", "error")]
    assert "exited with code 7" in spread[3][1].reason
    assert [(c.index, _comparable(r)) for c, r in serial] == [(c.index, _comparable(r)) for c, r in spread]


def test_a_files_folder_does_not_shadow_a_later_files_package(tmp_path, monkeypatch):
    """A sibling ``train.py`` next to one model must not pass for the root's ``train/``
    package when the worker imports ``train/mlp.py`` after it (results must not depend
    on which files share a worker)."""
    pytest.importorskip("torch")
    (tmp_path / "pyproject.toml").write_text("[tool.gradlint.probe]\nenabled = false\n")
    local = tmp_path / "train" / "cnn"
    local.mkdir(parents=True)
    (local / "models.py").write_text(MODEL.format(name="SmallCNN", width=8))
    (local / "train.py").write_text("from models import SmallCNN\nmodel = SmallCNN()\nraise SystemExit('ran the script')\n")
    (tmp_path / "train" / "mlp.py").write_text(MODEL.format(name="MLP", width=8))
    monkeypatch.chdir(tmp_path)
    files = [(local / "models.py", "train/cnn/models.py"), (tmp_path / "train" / "mlp.py", "train/mlp.py")]
    collected = collect(files, Settings(root=tmp_path), jobs=1)
    assert [(c.callable, r.status, getattr(r, "reason", None)) for c, r in collected] == [
        ("SmallCNN", "ok", None), ("MLP", "ok", None)]
