"""--probe-steps N with the optimiser the training script builds: the static association
(no torch), the config keys, the worker side and the JSON field end to end."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from gradlint.config import ConfigError, Settings, apply
from gradlint.model.discover import Candidate
from gradlint.probe.optimizer_source import label, optimizers_for

NET = textwrap.dedent("""\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))

        def forward(self, x):
            return self.layers(x)
    """)
TRAIN = textwrap.dedent("""\
    import torch
    from models.net import Net

    LR = 3e-4


    def main(loader):
        model = Net()
        opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.1)
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
    """)


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def specs(root: Path, names: list[str], models: list[tuple[str, str]], probe: dict | None = None) -> list[str]:
    files = [(root / n, n) for n in names]
    candidates = [Candidate(str((root / f).resolve()), f, c, "class", 1, index=i) for i, (f, c) in enumerate(models)]
    found = optimizers_for(candidates, files, {"optimizer": "auto", **(probe or {})})
    return [label(found[i]) for i in range(len(candidates))]


def test_the_optimiser_built_over_the_model_in_a_script_that_imports_it(tmp_path):
    write(tmp_path, "models/net.py", NET)
    write(tmp_path, "models/other.py", NET.replace("class Net", "class Other"))
    write(tmp_path, "train.py", TRAIN)
    # a second script trains the other model with SGD: each model gets its own optimiser
    write(tmp_path, "train_other.py", "from torch import optim\nfrom models import other\n"
          "model = other.Other()\nopt = optim.SGD(model.parameters(), 0.1, momentum=0.9)\n")
    names = ["models/net.py", "models/other.py", "train.py", "train_other.py"]
    found = specs(tmp_path, names, [("models/net.py", "Net"), ("models/other.py", "Other")])
    assert found == ["AdamW(lr=0.0003, weight_decay=0.1) from train.py:9",
                     "SGD(lr=0.1, momentum=0.9) from train_other.py:4"]


def test_tied_model_wins_over_other_optimisers_in_the_same_script(tmp_path):
    write(tmp_path, "models/net.py", NET)
    write(tmp_path, "gan.py", "import torch\nfrom models.net import Net\nd = Disc()\n"
          "opt_d = torch.optim.SGD(d.parameters(), lr=0.1)\nnet = Net()\n"
          "opt = torch.optim.RMSprop(net.parameters(), lr=1e-3)\n")
    assert specs(tmp_path, ["models/net.py", "gan.py"], [("models/net.py", "Net")]) == [
        "RMSprop(lr=0.001) from gan.py:6"]


def test_relative_import_own_file_and_run_wide_fallbacks(tmp_path):
    write(tmp_path, "pkg/net.py", NET)
    write(tmp_path, "pkg/train.py", "import torch.optim as optim\nfrom .net import Net\n"
          "m = Net()\no = optim.Adam(m.parameters())\n")
    assert specs(tmp_path, ["pkg/net.py", "pkg/train.py"], [("pkg/net.py", "Net")]) == ["Adam from pkg/train.py:4"]
    # a Lightning-style configure_optimizers in the model's own file
    write(tmp_path, "lit2.py", NET.replace("import torch.nn as nn", "import torch\nimport torch.nn as nn")
          + "\n    def configure_optimizers(self):\n        return torch.optim.Adagrad(self.parameters(), lr=0.05)\n")
    assert specs(tmp_path, ["lit2.py"], [("lit2.py", "Net")]) == ["Adagrad(lr=0.05) from lit2.py:14"]
    # no script imports the model: the run's one optimiser class, else SGD
    write(tmp_path, "loose.py", NET)
    assert specs(tmp_path, ["loose.py", "pkg/train.py"], [("loose.py", "Net")]) == ["Adam from pkg/train.py:4"]
    write(tmp_path, "t2.py", "import torch\nopt = torch.optim.SGD(params, lr=0.5)\n")
    assert specs(tmp_path, ["loose.py", "pkg/train.py", "t2.py"], [("loose.py", "Net")]) == ["SGD(lr=0.01) (default)"]


def test_optimisers_outside_torch_optim_and_non_literal_arguments(tmp_path):
    write(tmp_path, "models/net.py", NET)
    write(tmp_path, "train.py", "import bitsandbytes as bnb\nimport torch\nfrom models.net import Net\n"
          "model = Net()\nopt = bnb.optim.AdamW8bit(model.parameters(), lr=1e-3)\n"
          "sched = torch.optim.lr_scheduler.StepLR(opt, 10)\n")
    assert specs(tmp_path, ["models/net.py", "train.py"], [("models/net.py", "Net")]) == ["SGD(lr=0.01) (default)"]
    write(tmp_path, "train.py", "import torch\nfrom models.net import Net\nmodel = Net()\n"
          "opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.95))\n")
    assert specs(tmp_path, ["models/net.py", "train.py"], [("models/net.py", "Net")]) == [
        "Adam(betas=[0.9, 0.95]) from train.py:4"]


def test_config_names_the_optimiser_or_overrides_the_rate(tmp_path):
    write(tmp_path, "models/net.py", NET)
    write(tmp_path, "train.py", TRAIN)
    names, model = ["models/net.py", "train.py"], [("models/net.py", "Net")]
    assert specs(tmp_path, names, model, {"optimizer": "adam"}) == ["Adam (config)"]
    assert specs(tmp_path, names, model, {"optimizer": "sgd"}) == ["SGD(lr=0.01) (config)"]
    assert specs(tmp_path, names, model, {"optimizer": "rmsprop", "lr": 0.002}) == ["RMSprop(lr=0.002) (config)"]
    assert specs(tmp_path, names, model, {"lr": 0.5}) == ["AdamW(lr=0.5, weight_decay=0.1) from train.py:9"]


@pytest.mark.parametrize("table, message", [
    ({"optimizer": "lion"}, "'probe.optimizer' must be one of auto, sgd, adam, adamw, rmsprop, adagrad"),
    ({"lr": "fast"}, "'probe.lr' must be a number, got string"),
    ({"lr": -1.0}, "'probe.lr' must be a positive number, got -1.0"),
])
def test_config_rejects_bad_optimiser_keys(table, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        apply(Settings(), {"probe": table}, "pyproject.toml")


def test_config_accepts_optimiser_and_rate():
    settings = Settings()
    apply(settings, {"probe": {"optimizer": "adamw", "lr": 1}}, "pyproject.toml")
    assert (settings.probe["optimizer"], settings.probe["lr"]) == ("adamw", 1)
    assert Settings().probe["optimizer"] == "auto" and "lr" not in Settings().probe


def test_worker_builds_the_named_optimiser_only_when_it_steps():
    torch = pytest.importorskip("torch")
    from gradlint.probe.entry import PlainSGD, build_optimizer, optimizer_spec

    params = list(torch.nn.Linear(2, 2).parameters())
    spec = {"name": "AdamW", "options": {"lr": 3e-4, "betas": [0.9, 0.95]}, "source": "train.py:9"}
    built, text = build_optimizer(params, spec, steps=3)
    assert isinstance(built, torch.optim.AdamW) and built.defaults["betas"] == (0.9, 0.95)
    assert text == "AdamW(lr=0.0003, betas=[0.9, 0.95]) from train.py:9"
    one_step, _ = build_optimizer(params, spec, steps=1)  # never steps: torch.optim not needed
    assert isinstance(one_step, PlainSGD)
    assert optimizer_spec({}, {"optimizer": "auto"})["source"] == "default"
    assert optimizer_spec({}, {"optimizer": "adagrad", "lr": 0.1}) == {
        "name": "Adagrad", "options": {"lr": 0.1}, "source": "config"}


def test_probe_steps_run_the_training_scripts_optimiser(tmp_path, gradlint):
    pytest.importorskip("torch")
    write(tmp_path, "pyproject.toml", "[tool.gradlint]\n")
    write(tmp_path, "models/net.py", NET)
    write(tmp_path, "train.py", TRAIN)

    def probe(*extra: str) -> dict:
        done = gradlint(".", "--no-cache", "--output-format", "json", "--device", "cpu", *extra, cwd=tmp_path)
        return json.loads(done.stdout)["models"][0]["probe"]

    adamw = probe("--probe-steps", "3")
    assert adamw["optimizer"] == "AdamW(lr=0.0003, weight_decay=0.1) from train.py:9"
    write(tmp_path, "pyproject.toml", "[tool.gradlint.probe]\noptimizer = \"sgd\"\n")
    sgd = probe("--probe-steps", "3")
    assert sgd["optimizer"] == "SGD(lr=0.01) (config)"
    # the same seed and first step; the updates differ, so the later losses do
    assert adamw["loss_per_step"][0] == sgd["loss_per_step"][0]
    assert adamw["loss_per_step"][1:] != sgd["loss_per_step"][1:]
    (tmp_path / "train.py").unlink()
    write(tmp_path, "pyproject.toml", "[tool.gradlint]\n")
    assert probe()["optimizer"] == "SGD(lr=0.01) (default)"
