"""GL406 shapes of held-out round 62 (``bench/heldout/round62``), in our own words: a
spectrogram ResNet whose stem BatchNorm and first stage are frozen parameter by parameter
name (62/a); a builder picking the network from a table of dicts (``MODELS[name]["model"]``,
62/a); a captioner frozen under a flag a ``from config import *`` module sets (62/b); an
encoder whose only optimised parts are its head, never put in eval mode and run through
``nn.parallel.data_parallel`` (62/b); and a head-only warm-up followed by a new optimiser
over every parameter, which is no finding (62/a's look-alike)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

LOOP = """\
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for epoch in range(30):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""

BY_NAME = """\
    import torch
    import torchvision

    model = torchvision.models.{arch}(weights="DEFAULT")
    for name, weight in model.named_parameters():
        {tests}
""" + LOOP

STEM_AND_FIRST_STAGE = """if name == "bn1.weight" or name == "bn1.bias":
            weight.requires_grad = False
        if name[0:6] == "layer1":
            weight.requires_grad = False"""
PREFIXES = """if name.startswith(("conv1", "bn1", "layer1")):
            weight.requires_grad = False"""
CONVOLUTIONS_ONLY = """if name == "conv1.weight":
            weight.requires_grad = False"""


@pytest.mark.parametrize(("tests", "parts"), [
    (STEM_AND_FIRST_STAGE, "`bn1`, `layer1`"),
    (PREFIXES, "`conv1`, `bn1`, `layer1`"),
])
def test_parts_frozen_by_parameter_name(tmp_path: Path, tests: str, parts: str) -> None:
    write_project(tmp_path, {"train.py": BY_NAME.format(arch="resnet18", tests=tests)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 7)]
    assert f"the parameters of its {parts} are frozen here" in findings[0].message


def test_a_frozen_convolution_alone_holds_no_batchnorm(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": BY_NAME.format(arch="resnet18", tests=CONVOLUTIONS_ONLY)})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


TABLE = """\
    import torch
    from torchvision import models

    MODELS = {{
        "ResNet152": {{"model": models.{first}, "weight": 1}},
        "EfficientNet_B5": {{"model": models.{second}, "weight": 2.2}},
    }}


    def select_model(name):
        build = MODELS[name]["model"]
        model = build(weights="DEFAULT")
        for parameter in model.parameters():
            parameter.requires_grad = False
        model.fc = torch.nn.Linear(2048, 5)
        return model


    for name in MODELS:
        model = select_model(name)
""" + LOOP.replace("\n    ", "\n        ").replace("    optimizer", "        optimizer", 1)


def test_a_builder_picking_from_a_table_of_dicts(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": TABLE.format(first="resnet152", second="efficientnet_b5")})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 20)]
    assert "`select_model` (line 13) returns it with its parameters frozen" in findings[0].message


def test_a_table_of_dicts_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": TABLE.format(first="vgg16", second="alexnet")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


CONFIG = """\
    FREEZE_ENCODER = {flag}
    EMBED = 256
"""

CAPTIONER = """\
    import torch.nn as nn
    from torchvision import models


    class Encoder(nn.Module):
        def __init__(self, size, freeze=True):
            super().__init__()
            trunk = models.resnet50(weights="DEFAULT")
            self.trunk = nn.Sequential(*list(trunk.children())[:-1])
            self.embed = nn.Linear(2048, size)
            if freeze:
                for weight in self.trunk.parameters():
                    weight.requires_grad = False

        def forward(self, x):
            return self.embed(self.trunk(x).flatten(1))


    class Captioner(nn.Module):
        def __init__(self, size, vocab, freeze_encoder=True):
            super().__init__()
            self.encoder = Encoder(size, freeze=freeze_encoder)
            self.decoder = nn.LSTM(size, vocab)
"""

TRAIN = """\
    import torch
    from config import *
    from captioner import Captioner

    model = Captioner(EMBED, 1000, freeze_encoder=FREEZE_ENCODER)
""" + LOOP


@pytest.mark.parametrize("flag", ["True", "False"])
def test_a_freeze_flag_from_a_star_imported_config(tmp_path: Path, flag: str) -> None:
    write_project(tmp_path, {"config.py": CONFIG.format(flag=flag), "captioner.py": CAPTIONER, "train.py": TRAIN})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == ([("GL406", 5)] if flag == "True" else [])


ENCODER = """\
    import torch
    from torch import nn
    from torchvision import models


    class CNN(nn.Module):
        def __init__(self, size):
            super().__init__()
            trunk = models.resnet34(weights="DEFAULT")
            self.resnet = nn.Sequential(*list(trunk.children())[:-1])
            self.linear = nn.Linear(512, size)
            self.batchnorm = nn.BatchNorm1d(size)

        def forward(self, x):
            return self.batchnorm(self.linear(self.resnet(x).detach().flatten(1)))
"""

HEAD_ONLY = """\
    import torch
    from torch import nn
    from encoder import CNN
    import helpers


    def main(args):
        encoder = CNN(256)
        encoder = nn.DataParallel(encoder)
        decoder = nn.LSTM(256, 512)
        params = list(decoder.parameters()) + list(encoder.linear.parameters()) + list(encoder.batchnorm.parameters())
        optimizer = torch.optim.Adam(params, lr=1e-3)
        if args.sample:
            return helpers.sample(encoder, decoder)
        for epoch in range(5):
            for images, captions in []:
                optimizer.zero_grad()
                {run}
                decoder(features)[0].sum().backward()
                optimizer.step()
                if epoch % 2:
                    encoder.batchnorm.eval()
                    encoder.batchnorm.train()
"""

HELPERS = """\
    def sample(encoder, decoder):
        encoder.eval()
        return decoder(encoder(None))
"""


@pytest.mark.parametrize("run", ["features = encoder(images)",
                                 "features = nn.parallel.data_parallel(encoder, images, range(2))"])
def test_an_encoder_whose_head_alone_is_optimised_and_never_put_in_eval(tmp_path: Path, run: str) -> None:
    write_project(tmp_path, {"encoder.py": ENCODER, "helpers.py": HELPERS, "train.py": HEAD_ONLY.format(run=run)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    # (where it is built, not where it is wrapped: the fix goes there)
    assert [(f.code, f.line) for f in findings] == [("GL406", 8)]
    assert "only `encoder.batchnorm` and `encoder.linear` are optimised on line 12" in findings[0].message
    assert "nothing puts it in eval mode" in findings[0].message
    assert [(r.line, r.message) for r in findings[0].related][-1] == (
        12, "the optimiser, which leaves the rest of `encoder` out")


WARM_UP = """\
    import argparse
    import torch
    from torchvision import models

    parser = argparse.ArgumentParser()
    parser.add_argument("--freeze-epochs", type=int, default=3)
    args = parser.parse_args()
    model = models.resnet50(weights="DEFAULT")
    if args.freeze_epochs > 0:
        optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-3)
        for epoch in range(args.freeze_epochs):
            model.train()
            for x, y in []:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
    params = []
    for name, weight in model.named_parameters():
        if name.startswith("fc"):
            params.append({"params": weight, "lr": 1e-3})
        else:
            params.append({"params": weight, "lr": 1e-4})
    optimizer = torch.optim.Adam(params)
    for epoch in range(30):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


def test_a_head_only_warm_up_then_an_optimiser_over_every_parameter_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": WARM_UP})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_filtered_parameter_list_is_not_every_parameter(tmp_path: Path) -> None:
    filtered = WARM_UP.replace('''        if name.startswith("fc"):
            params.append({"params": weight, "lr": 1e-3})
        else:
            params.append({"params": weight, "lr": 1e-4})''', '''        if name.startswith("fc"):
            params.append({"params": weight, "lr": 1e-3})''')
    write_project(tmp_path, {"train.py": filtered})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 10)]


NET_WITH_HOOK = """\
    import torch.nn as nn
    from torchvision import models


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = models.resnet18(weights=None)

        def forward(self, x):
            return self.body(x)

        def {hook}(self):
            for module in self.modules():
                if isinstance(module, nn.BatchNorm2d):
                    if not module.weight.requires_grad:
                        module.eval()
"""

HOOKED = """\
    import torch
    from net import Net

    model = Net()
    for name, weight in model.named_parameters():
        if "bn" in name:
            weight.requires_grad = False
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for epoch in range(10):
        model.train()
        model.before_iter()
        for x, y in []:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("hook", "expected"), [("before_iter", []), ("log_norms", [("GL406", 7)])])
def test_a_model_method_that_puts_frozen_batchnorm_back_in_eval_after_train(tmp_path: Path, hook: str,
                                                                             expected: list) -> None:
    # (found by the full re-run: round 60/a's look-alike, whose frozen BatchNorm a hook of the model's
    # class puts in eval right after ``model.train()``; a method of another name is not that hook)
    write_project(tmp_path, {"net.py": NET_WITH_HOOK.format(hook=hook), "train.py": HOOKED})
    assert [(f.code, f.line) for f in lint_in_process(tmp_path / "train.py", "GL406")] == expected
