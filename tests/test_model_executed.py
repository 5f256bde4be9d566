"""A model torch.fx cannot trace exactly is measured as it trains: its structure is
recorded from one real forward ("as executed for this input"), the probe runs the model
itself, and transposed-linear layers (Hugging Face's Conv1D) count as weight layers."""

from __future__ import annotations

import json

import pytest

from conftest import run_gradlint

BREAKING = '''\
import torch
import torch.nn as nn


class EarlyExit(nn.Module):
    """Seven layers; the loop stops early only when the signal is tiny (never, here)."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(16, 16) for _ in range(6)])
        self.head = nn.Linear(16, 4)
        for layer in self.layers:
            nn.init.normal_(layer.weight, std=0.02)

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x))
            if x.abs().max() < 1e-12:
                break
        return self.head(x)


class Conv1D(nn.Module):
    """A transposed linear layer: weight (in, out), as Hugging Face's GPT-2 stores it."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.02)
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(*x.shape[:-1], -1)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = Conv1D(32, 8)
        self.down = Conv1D(8, 32)

    def forward(self, x):
        if x.norm() > 0:  # data-dependent: fx cannot trace it
            x = x + self.down(torch.relu(self.up(x)))
        return x


class TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(8, 8)
        self.blocks = nn.Sequential(Block(), Block())
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        return self.out(self.blocks(self.embed(x)))
'''


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("executed")
    (folder / "nets.py").write_text(BREAKING)
    (folder / "pyproject.toml").write_text("[tool.gradlint.probe]\ndevice = 'cpu'\n")
    completed = run_gradlint("--no-cache", "--output-format", "json", ".", cwd=folder)
    return json.loads(completed.stdout)


def test_every_layer_that_ran_is_in_the_structure_and_the_probe(report):
    model = next(m for m in report["models"] if m["name"] == "EarlyExit")
    assert model["structure"] == "executed" and model["trace_note"].startswith("recorded as executed for this input")
    names = [layer["name"] for layer in model["layers"]]
    assert names == [f"layers.{i}" for i in range(6)] + ["head"]
    assert model["longest_path"] == 7 and model["activations"] == 6
    assert [layer["name"] for layer in model["probe"]["layers"]] == names
    # the saturating stack of six tanh layers (GL101) is seen through the recorded data flow
    assert any(f["code"] == "GL101" and f["model"] == "EarlyExit" for f in report["findings"])
    assert not any(f["code"] == "GL003" for f in report["findings"])


def test_probe_numbers_equal_a_plain_eager_measurement(report, tmp_path):
    torch = pytest.importorskip("torch")
    namespace: dict = {}
    exec(compile(BREAKING, "nets.py", "exec"), namespace)
    torch.manual_seed(0)
    model = namespace["EarlyExit"]()
    probe = next(m for m in report["models"] if m["name"] == "EarlyExit")["probe"]
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)  # the probe's: the input, then the labels
    x = torch.randn(8, 16, generator=generator)
    assert probe["input"].startswith("float32[8,16]")
    output = model(x)
    target = torch.randint(0, 4, (8,), generator=generator)
    torch.nn.functional.cross_entropy(output, target).backward()
    plain = [float(torch.linalg.vector_norm(layer.weight.grad)) for layer in [*model.layers, model.head]]
    measured = [layer["grad_norm"] for layer in probe["layers"]]
    assert measured == pytest.approx(plain, rel=1e-4)


def test_transposed_linear_layers_and_residuals_of_an_untraceable_block(report):
    model = next(m for m in report["models"] if m["name"] == "TinyTransformer")
    assert model["structure"] == "executed"
    layers = {layer["name"]: (layer["type"], layer["fan_in"], layer["fan_out"]) for layer in model["layers"]}
    assert layers == {"embed": ("Linear", 8, 8), "blocks.0.up": ("Conv1D", 8, 32), "blocks.0.down": ("Conv1D", 32, 8),
                      "blocks.1.up": ("Conv1D", 8, 32), "blocks.1.down": ("Conv1D", 32, 8), "out": ("Linear", 8, 3)}
    assert model["residual_merges"] == 2 and model["longest_path"] == 6
    assert [layer["name"] for layer in model["probe"]["layers"]] == list(layers)


def test_a_model_above_the_parameter_budget_is_analysed_on_meta_and_not_probed(tmp_path):
    (tmp_path / "big.py").write_text(
        "import torch.nn as nn\n\n\nclass Big(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.fc1 = nn.Linear(12000, 12000)\n        self.fc2 = nn.Linear(12000, 10)\n\n"
        "    def forward(self, x):\n        return self.fc2(self.fc1(x).relu())\n")
    completed = run_gradlint("--no-cache", "--output-format", "json", ".", cwd=tmp_path,
                             env={"GRADLINT_COST": "1"})
    model = json.loads(completed.stdout)["models"][0]
    assert model["parameters"] == 12000 * 12001 + 12001 * 10 and model["structure"] == "fx"
    assert [layer["name"] for layer in model["layers"]] == ["fc1", "fc2"]
    assert model["probe_skipped"].startswith(
        "144M parameters, above the 134M that a quarter of memory-limit (4096 MiB) holds with gradients")
    assert "probe" not in model or not model["probe"]
    assert model["cost"]["rss_mb"] < 600  # 576 MB of weights were never allocated
    text = run_gradlint("--no-cache", ".", cwd=tmp_path).stdout
    assert "Models: 1 found, 1 analysed; 1 above the probe's parameter budget analysed for structure only." in text


def test_a_zoo_file_shares_the_probe_budget():
    pytest.importorskip("torch")
    from gradlint.model.budget import parameter_budget

    # a quarter of 4096 MiB at 8 bytes a parameter (weight and gradient): GPT-2 small's 124M fits
    assert parameter_budget(4096) == 134_217_728
    assert parameter_budget(4096, 8) == 134_217_728
    # timm's resnet.py (80 variants): a tenth each, so ResNet-18 (11.7M) is probed, ResNet-50 (25.6M) is not
    assert parameter_budget(4096, 80) == 13_421_772
    assert parameter_budget(0, 80) is None  # no memory limit, no budget
