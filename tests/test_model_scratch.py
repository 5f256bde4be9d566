"""User code runs in a scratch area: what it writes at import and in its constructor
lands in a temporary directory that is removed, and a download attempt ends as a
GL002 that names the host and says what to do."""

from __future__ import annotations

import json
import os

from conftest import run_gradlint

WRITES_AND_DOWNLOADS = '''\
import os
import urllib.request

import torch.nn as nn

from .helpers import width

os.makedirs("data/cifar", exist_ok=True)
with open(os.path.join(os.path.expanduser("~"), "marker.txt"), "w") as handle:
    handle.write("written at import")
os.makedirs(os.path.join(os.environ.get("TORCH_HOME", os.path.expanduser("~/.cache/torch")), "hub"), exist_ok=True)


class Pretrained(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(width(), 2)
        urllib.request.urlopen("https://weights.example.com/pretrained.pt")

    def forward(self, x):
        return self.fc(x)
'''


def _tree(folder):
    return sorted(os.path.relpath(os.path.join(d, n), folder) for d, dirs, files in os.walk(folder) for n in dirs + files)


def test_writes_stay_in_scratch_and_download_is_reported(tmp_path):
    project = tmp_path / "project"
    package = project / "zoo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("def width():\n    return 4\n")
    (package / "model.py").write_text(WRITES_AND_DOWNLOADS)
    (project / "pyproject.toml").write_text("[tool.gradlint.probe]\ndevice = 'cpu'\n")
    home = tmp_path / "home"
    home.mkdir()
    before = _tree(project)
    completed = run_gradlint("--no-cache", "--output-format", "json", ".", cwd=project,
                             env={"HOME": str(home), "TORCH_HOME": str(home / "torch"), "XDG_CACHE_HOME": str(home / "cache")})
    report = json.loads(completed.stdout)
    assert _tree(project) == before  # no data/ folder, no __pycache__ from the worker's cwd
    assert _tree(home) == []  # neither the marker nor a cache folder
    found = [f for f in report["findings"] if f["code"] == "GL002"]
    assert len(found) == 1, report["findings"]
    message = found[0]["message"]
    assert found[0]["path"] == "zoo/model.py" and found[0]["line"] == 14
    assert "could not be built: tried to download from weights.example.com:443" in message
    assert "make the weights local or build the model without pretrained weights" in message
    assert "(at model.py:18)" in message  # the relative import of the project still worked
