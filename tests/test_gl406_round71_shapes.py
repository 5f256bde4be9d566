"""GL406 shapes of held-out round 71 (``bench/heldout/round71``), in our own words: image
captioning with a frozen CNN encoder (two copies of one video tutorial's model, and an
attention captioner whose script reloads a checkpoint behind a switch it turns off)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

ENCODER = """\
    import torch
    import torch.nn as nn
    import torchvision.models as models


    class ImageEncoder(nn.Module):
        def __init__(self, embed_size, train_cnn=False):
            super().__init__()
            self.cnn = models.inception_v3(weights="DEFAULT", aux_logits=True)
            self.cnn.fc = nn.Linear(self.cnn.fc.in_features, embed_size)
            for name, param in self.cnn.named_parameters():
                if "fc.weight" in name or "fc.bias" in name:
                    param.requires_grad = True
                else:
                    param.requires_grad = train_cnn

        def forward(self, images):
            return self.cnn(images)


    class Captioner(nn.Module):
        def __init__(self, embed_size, vocab_size):
            super().__init__()
            self.encoder = ImageEncoder(embed_size{passed})
            self.decoder = nn.LSTM(embed_size, vocab_size)

        def forward(self, images):
            return self.decoder(self.encoder(images).unsqueeze(0))[0]
"""

TRAIN = """\
    import torch

    from model import Captioner


    def train(loader):
        model = Captioner(256, 5000)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
        model.train()
        for epoch in range(100):
            for images, captions in loader:
                loss = model(images).sum()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
"""


@pytest.mark.parametrize(("passed", "expected"), [("", [("GL406", 7)]), (", train_cnn=False", [("GL406", 7)]),
                                                  (", train_cnn=True", [])])
def test_requires_grad_set_to_a_constructor_flag_in_a_name_test(tmp_path: Path, passed: str, expected: list) -> None:
    """Round 71/a's captioning tutorial copies: ``if "fc.weight" in name: ... True else:
    param.requires_grad = train_cnn`` with ``train_cnn=False`` by default freezes all of the
    Inception network but its new head; ``Captioner`` builds it with the default."""
    write_project(tmp_path, {"model.py": ENCODER.format(passed=passed), "train.py": TRAIN})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert findings[0].message.startswith("`model.encoder.cnn` has BatchNorm layers and `Captioner` (model.py:")


@pytest.mark.parametrize(("passed", "expected"), [("", [("GL406", 15)]), (", train_cnn=True", [])])
def test_the_same_class_built_in_its_own_file(tmp_path: Path, passed: str, expected: list) -> None:
    script = textwrap.dedent(ENCODER.format(passed="").split("class Captioner")[0]) + (
        f"model = ImageEncoder(256{passed})\noptimizer = torch.optim.Adam(model.parameters())\n"
        "for epoch in range(100):\n    model.train()\n    for x in []:\n        model(x).sum().backward()\n"
        "        optimizer.step()\n")
    write_project(tmp_path, {"train.py": script})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert "(`self.cnn.fc` trainable again; the rest stays frozen)" in findings[0].message


ENCODER_MODULE = """\
    import torch.nn as nn
    import torchvision.models as models


    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            resnet = models.resnet50(weights="DEFAULT")
            for param in resnet.parameters():
                param.requires_grad_(False)
            modules = list(resnet.children())[:-2]
            self.resnet = nn.Sequential(*modules)

        def forward(self, images):
            return self.resnet(images)
"""

RELOADED = """\
    import torch

    from model import Encoder
    from utils import load_model


    def main(loader):
        load_checkpoint = {switch}
        model = Encoder()
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
        if load_checkpoint:
            model, vocab = load_model("model.pth", "vocab.pkl")
        model.train()
        for images in loader:
            loss = model(images).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("switch", "expected"), [("False", [("GL406", 9)]), ("True", [])])
def test_a_reload_behind_a_switch_the_script_turns_off_is_not_another_model(tmp_path: Path, switch: str,
                                                                         expected: list) -> None:
    """Round 71/a's attention captioner: ``load_checkpoint = False`` then ``if load_checkpoint:
    model, vocab = load_model(...)``; that branch never runs, so the model trained is the one
    built (and frozen) above. With the switch on, the model trained is the one the loader builds."""
    write_project(tmp_path, {"train.py": RELOADED.format(switch=switch), "model.py": ENCODER_MODULE,
                             "utils.py": "import torch\nfrom torch import nn\n\n\ndef load_model(path, vocab):\n"
                                         "    model = nn.Linear(8, 8)\n    model.load_state_dict(torch.load(path))\n"
                                         "    return model, None\n"})
    assert [(f.code, f.line) for f in lint_in_process(tmp_path / "train.py", "GL406")] == expected


PANNS = """\
    import torch.nn as nn
    import torchvision


    class TransferNet(nn.Module):
        def __init__(self, c):
            super().__init__()
            freeze_base = {flag}
            self.base = torchvision.models.resnet18()
            self.fc_transfer = nn.Linear(1000, c.model["num_class"])
            if freeze_base:
                for param in self.base.parameters():
                    param.requires_grad = False

        def forward(self, x):
            return self.fc_transfer(self.base(x))


    def return_model(c):
        return TransferNet(c)
"""

PANNS_TRAIN = """\
    import json
    import sys

    import torch

    from models import return_model


    def train(c, loader):
        model = return_model(c)
        optimizer = torch.optim.Adam(model.parameters())
        for epoch in range(100):
            model.train()
            for x, y in loader:
                loss = torch.nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
"""


@pytest.mark.parametrize(("flag", "expected"), [('c.model["freeze_base"]', []), ("True", [("GL406", 10)])])
def test_a_freeze_under_a_local_bound_to_a_configuration_read(tmp_path: Path, flag: str, expected: list) -> None:
    """Rounds 71/a's and 72/b's audio transfer models (one codebase): ``freeze_base =
    c.model["freeze_base"]`` then ``if freeze_base:`` in ``__init__``; the configuration
    object is the caller's, and which way it sets the flag is not read (the project's JSON
    configurations set it false), as with ``if c.model["freeze_base"]:`` written out."""
    write_project(tmp_path, {"models.py": PANNS.format(flag=flag), "train.py": PANNS_TRAIN})
    assert [(f.code, f.line) for f in lint_in_process(tmp_path / "train.py", "GL406")] == expected
