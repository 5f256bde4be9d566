"""Architectures that once gave GL1xx false alarms (found by a held-out evaluation on
realistic model files), analysed in one real run: each must give exactly the findings
listed (code, user line, a part of the message), nothing else."""

from __future__ import annotations

import json
import os

import pytest

from gradlint.config import Settings
from gradlint.runner import RunOptions, run

HIGHWAY = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class HighwayLayer(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.H = nn.Linear(size, size)
        self.T = nn.Linear(size, size)

    def forward(self, x):
        h = F.relu(self.H(x))
        t = self.T(x).sigmoid()
        return h * t + x * (1 - t)


class HighwayNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(50, 64)
        self.layers = nn.ModuleList([HighwayLayer(64) for _ in range(12)])
        self.out = nn.Linear(64, 5)

    def forward(self, x):
        x = torch.relu(self.proj(x))
        for layer in self.layers:
            x = layer(x)
        return self.out(x)
"""

MOBILENET = """\
import torch.nn as nn


class Inverted(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.use_res = cin == cout
        self.conv = nn.Sequential(
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU6(),
            nn.Conv2d(cout, cout, 3, padding=1, groups=cout, bias=False), nn.BatchNorm2d(cout), nn.ReLU6(),
            nn.Conv2d(cout, cout, 1, bias=False), nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        if self.use_res:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetLike(nn.Module):
    def __init__(self):
        super().__init__()
        blocks, cin = [nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6()], 8
        for cout in (8, 12, 16, 20, 24, 28, 32):
            blocks += [Inverted(cin, cout), Inverted(cout, cout)]
            cin = cout
        self.features = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.features(x))
"""

PLAIN_THEN_RESIDUAL = """\
import torch.nn as nn


class Res(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)

    def forward(self, x):
        return x + self.fc(x).relu()


class PlainThenResidual(nn.Module):
    def __init__(self):
        super().__init__()
        self.plain = nn.Sequential(*[nn.Sequential(nn.Linear(16, 16), nn.ReLU()) for _ in range(13)])
        self.res = nn.Sequential(Res(), Res())

    def forward(self, x):
        return self.res(self.plain(x))
"""

TORCH_TRANSFORMERS = """\
import torch
import torch.nn as nn


class EncoderClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        layer = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=8, enable_nested_tensor=False)
        self.fc = nn.Linear(32, 4)

    def forward(self, tokens):
        return self.fc(self.encoder(self.embed(tokens)).mean(dim=1))


class Seq2SeqTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.src = nn.Embedding(100, 32)
        self.tgt = nn.Embedding(100, 32)
        self.core = nn.Transformer(32, 4, num_encoder_layers=4, num_decoder_layers=4, dim_feedforward=64,
                                   batch_first=True)
        self.out = nn.Linear(32, 100)

    def forward(self, src, tgt):
        return self.out(self.core(self.src(src), self.tgt(tgt)))


def example_inputs():
    return torch.randint(0, 100, (2, 7)), torch.randint(0, 100, (2, 5))
"""

GRU_CELL_STEPS = """\
import torch.nn as nn


class Refiner(nn.Module):
    def __init__(self, steps=16):
        super().__init__()
        self.steps = steps
        self.inp = nn.Linear(32, 64)
        self.cell = nn.GRUCell(64, 64)
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        e = self.inp(x)
        h = e
        for _ in range(self.steps):
            h = self.cell(e, h)
        return self.out(h)


class Decoder(nn.Module):
    def __init__(self, steps=20):
        super().__init__()
        self.steps = steps
        self.cell = nn.RNNCell(8, 8)

    def forward(self, x):
        h = x
        for _ in range(self.steps):
            h = self.cell(x, h)
        return h
"""

SPECTRAL = """\
import torch.nn as nn
from torch.nn.utils import parametrizations, spectral_norm


class SNDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(*[
            m for i in range(8) for m in (spectral_norm(nn.Conv2d(3 if i == 0 else 16, 16, 3, padding=1)), nn.LeakyReLU(0.1))
        ])
        self.linear = parametrizations.spectral_norm(nn.Linear(16, 1))

    def forward(self, x):
        return self.linear(self.main(x).mean((2, 3)))
"""

SELU = """\
import math
import torch.nn as nn
import torch.nn.functional as F


class SNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.ModuleList([nn.Linear(128, 128) for _ in range(9)])
        for layer in self.hidden:
            nn.init.normal_(layer.weight, std=1.0 / math.sqrt(128))
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        for layer in self.hidden[:5]:
            x = nn.functional.alpha_dropout(F.selu(layer(x)), 0.05, self.training)
        for layer in self.hidden[5:]:
            x = F.selu(layer(x))
        return self.head(x)


class XavierElu(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Sequential(*[nn.Sequential(nn.Linear(128, 128), nn.ELU()) for _ in range(9)])
        for block in self.hidden:
            nn.init.xavier_normal_(block[0].weight)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        return self.head(self.hidden(x))
"""

# file -> {(code, line, part of the message)}: exactly these findings
CUSTOM_ENCODER_LAYER = """\
import torch.nn as nn


class MyLayer(nn.Module):
    def __init__(self, d=32):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, 4, batch_first=True)
        self.ff = nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x, src_mask=None, src_key_padding_mask=None, is_causal=False):
        h = self.self_attn(x, x, x, need_weights=False)[0]
        return self.norm(x + self.ff(h))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(8, 32)
        self.encoder = nn.TransformerEncoder(MyLayer(), num_layers=2, enable_nested_tensor=False)
        self.head = nn.Linear(32, 2)

    def forward(self, x):
        return self.head(self.encoder(self.embed(x)).mean(1))
"""


CASES = {
    # sigmoid transform gates reach their products through `1 - t`; `x * (1 - t)` is the
    # carry path, so the add is a residual merge: no GL101/GL102/GL104, only GL105 (no norm)
    "highway.py": (HIGHWAY, {("GL105", 18, "14 weight layers on its longest path and no normalisation")}),
    # residual blocks throughout, 21 layers in the 3-layer stage transitions that have no
    # shortcut: GL104 counts the layers between residual merges (at most 6 here)
    "mobilenet.py": (MOBILENET, set()),
    # torch's transformer modules are fx leaves: expanded with their residual adds, not
    # as one 25-layer chain (GL104); pre- and post-norm, encoder and encoder-decoder
    "torch_transformers.py": (TORCH_TRANSFORMERS, set()),
    # a recurrent cell stepped 16 or 20 times is a recurrence, not 18 layers of depth
    # (GL104/GL105); the vanilla one is still GL106
    "cell_steps.py": (GRU_CELL_STEPS, {("GL106", 24, "'cell' is a vanilla nn.RNNCell")}),
    # spectral norm sets the weights' scale: their default init is not GL102's concern
    "spectral.py": (SPECTRAL, set()),
    # a self-normalising network: SELU with LeCun-normal init (Xavier's scale on square
    # layers) is what SELU prescribes, not GL103's mismatch; ELU with Xavier still is
    "selu.py": (SELU, {("GL103", 25, "9 layers initialised with Xavier/Glorot feed ReLU-family activations (ELU)")}),
    # nn.TransformerEncoder takes any layer module: the user's own is read generically
    "custom_encoder_layer.py": (CUSTOM_ENCODER_LAYER, set()),
    # a plain stack is still reported when residual blocks come after it
    "plain_then_residual.py": (PLAIN_THEN_RESIDUAL, {
        ("GL104", 13, "14 weight layers on one path with no residual/skip connection ('plain.0.0' to 'res.0.fc')"),
        ("GL105", 13, "15 weight layers on its longest path"),
        ("GL102", 16, "14 Linear/Conv layers on one path keep PyTorch's default init"),
    }),
}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("structures")
    for name, (source, _) in CASES.items():
        (folder / name).write_text(source)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        settings = Settings(root=folder)
        settings.probe["enabled"] = False
        return run(["."], settings, RunOptions())
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("name", sorted(CASES))
def test_findings_are_exactly_the_expected_ones(result, name):
    found = [f for f in result.findings if os.path.basename(f.path) == name]
    expected = CASES[name][1]
    assert {(f.code, f.line) for f in found} == {(code, line) for code, line, _ in expected}, \
        [(f.code, f.line, f.message) for f in found]
    for code, line, part in expected:
        message = next(f.message for f in found if (f.code, f.line) == (code, line))
        assert part in message, message


def test_a_helper_shared_by_model_variants_is_one_finding_naming_them(tmp_path, gradlint):
    (tmp_path / "zoo.py").write_text(
        "from torch import nn\n"
        "\n"
        "def sigmoid_stack(width):\n"
        "    return [m for _ in range(4) for m in (nn.Linear(width, width), nn.Sigmoid())]\n"
        "\n"
        "def build_small() -> nn.Module:\n"
        "    return nn.Sequential(*sigmoid_stack(16), nn.Linear(16, 2))\n"
        "\n"
        "def build_large() -> nn.Module:\n"
        "    return nn.Sequential(*sigmoid_stack(64), nn.Linear(64, 2))\n"
    )
    done = gradlint("--no-cache", "--no-probe", "--select", "GL101", "--output-format", "json", "zoo.py", cwd=tmp_path)
    findings = json.loads(done.stdout)["findings"]
    assert [(f["code"], f["line"]) for f in findings] == [("GL101", 4)]
    assert "(in 2 models: 'build_small', 'build_large')" in findings[0]["message"]
