"""GL406 shapes of held-out round 66 (``bench/heldout/round66``), in our own words: a
LightningModule building its backbone from a class-body table of builders; a store-true
freezing option the project's README, shell scripts or notebooks pass; a smoke test running
the system without gradients before its own optimiser; a freeze switched by a nested YAML
entry; BatchNorm put in eval once before the epochs; a head-only phase then a second freeze;
a LightningModule whose ``training_step`` is its imported base class's."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

LIT = """\
    from argparse import ArgumentParser

    import pytorch_lightning as pl
    import torch
    import torch.nn as nn
    import torchvision.models as tvm


    class DepthClassifier(pl.LightningModule):
        backbones = {{18: tvm.{small}, 50: tvm.{large}}}

        def __init__(self, classes, depth=18, linear_probe=True):
            super().__init__()
            self.net = self.backbones[depth](weights="DEFAULT")
            self.net.fc = nn.Linear(self.net.fc.in_features, classes)
            if linear_probe:
                for block in list(self.net.children())[:-1]:
                    block.requires_grad_(False)

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, idx):
            x, y = batch
            return nn.functional.cross_entropy(self(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-3)


    if __name__ == "__main__":
        parser = ArgumentParser()
        parser.add_argument("classes", type=int)
        parser.add_argument("-d", "--depth", type=int, default=18)
        parser.add_argument("-lp", "--linear_probe", action="store_true")
        args = parser.parse_args()
        model = DepthClassifier(args.classes, args.depth, linear_probe=args.linear_probe)
        pl.Trainer(max_epochs=30).fit(model)
"""


@pytest.mark.parametrize(("small", "large", "expected"), [
    ("resnet18", "resnet50", [("GL406", 18)]),
    ("vgg11", "vgg16", []),  # no BatchNorm in either builder
])
def test_a_class_table_of_builders_picked_by_depth_and_frozen_but_the_head(tmp_path: Path, small: str, large: str,
                                                                           expected: list) -> None:
    """66/b's Lightning ResNet template: ``self.resnets[resnet_version](pretrained=...)`` with
    ``resnets = {18: models.resnet18, ...}`` in the class body; every child but ``fc`` frozen."""
    write_project(tmp_path, {"lit.py": LIT.format(small=small, large=large)})
    findings = lint_in_process(tmp_path / "lit.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("`model.net`" in f.message and "Trainer(...).fit(model)" in f.message for f in findings)


BUILD = """\
    import torch.nn as nn
    from torchvision import models


    def build(classes, freeze_backbone=False):
        net = models.resnet18(weights="DEFAULT")
        if freeze_backbone:
            for p in net.parameters():
                p.requires_grad = False
        net.fc = nn.Linear(512, classes)
        return net
"""

RUN = """\
    import argparse

    import torch
    from src.build import build


    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("--epochs", type=int, default=20)
        parser.add_argument("-fb", "--freeze_backbone", action="store_true")
        args = parser.parse_args()
        model = build(5, freeze_backbone=args.freeze_backbone)
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
        for epoch in range(args.epochs):
            model.train()
            for x, y in []:
                loss = torch.nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()


    main()
"""

NOTEBOOK = ('{"cells": [{"cell_type": "markdown", "source": ["python run_train.py --freeze_backbone"]}, '
            '{"cell_type": "code", "source": ["%%cd %s\\n", "!python run_train.py \\\\\\n", "  --epochs 30 \\\\\\n", '
            '"  %s\\n"]}]}')


@pytest.mark.parametrize(("documents", "expected"), [
    ({"README.md": "Train a linear probe:\n\n    python run_train.py --epochs 5 -fb\n"}, [("GL406", 12)]),
    ({"README.md": "```\npython run_train.py \\\n  --epochs 5 \\\n  --freeze_backbone\n```\n"}, [("GL406", 12)]),
    ({"scripts/probe.sh": "#!/bin/sh\npython tuning/run_train.py --freeze_backbone && echo done\n"}, [("GL406", 12)]),
    ({"run.ipynb": NOTEBOOK % ("tuning", "--freeze_backbone")}, [("GL406", 12)]),
    ({"run.ipynb": NOTEBOOK % ("tuning", "--lr 0.1")}, []),  # (the markdown cell's command is not a run)
    ({"README.md": "    python run_train.py --epochs 5\n"}, []),  # off by default, never passed
    ({"README.md": "    # python run_train.py --freeze_backbone\n"}, []),  # a commented-out run
    ({"README.md": "    python eval.py --freeze_backbone\n"}, []),  # another script's option
    ({"README.md": "    python other/run_train.py --freeze_backbone\n"}, []),  # another folder's script
])
def test_a_store_true_freeze_flag_that_a_documented_run_passes(tmp_path: Path, documents: dict, expected: list) -> None:
    """66/a's handwriting-emotion project: ``build_resnet18(freeze_backbone=args.freeze_backbone)``
    with an ``action="store_true"`` option, which the project's notebooks pass."""
    write_project(tmp_path / "tuning", {"src/build.py": BUILD, "run_train.py": RUN})
    for name, text in documents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    findings = lint_in_process(tmp_path / "tuning" / "run_train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("`build` (src/build.py:8) returns it with its parameters frozen" in f.message for f in findings)


SMOKE = """\
    import pytorch_lightning as pl
    import torch
    import torch.nn as nn
    from torchvision import models


    class PoseSystem(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.encoder = models.resnet34(weights=None)
            self.encoder.fc = nn.Linear(512, 6)

        def forward(self, x):
            return self.encoder(x)

        def training_step(self, batch, idx):
            x, y = batch
            return nn.functional.mse_loss(self(x), y)

        def configure_optimizers(self):
            return {{"optimizer": torch.optim.AdamW(self.parameters(), lr=1e-4)}}


    if __name__ == "__main__":
        system = PoseSystem()
        x, y = torch.randn(2, 3, 224, 224), torch.randn(2, 6)
        system.eval()
        with torch.no_grad():
            print(system(x).shape)
        system.train()
        {optimizer}
        loss = system.training_step((x, y), 0)
        loss.backward()
        optimizer.step()
"""


@pytest.mark.parametrize("optimizer", ['optimizer = system.configure_optimizers()["optimizer"]',
                                       "optimizer = system.configure_optimizers()"])
def test_a_smoke_test_running_the_system_without_gradients_then_its_own_optimiser(tmp_path: Path,
                                                                                 optimizer: str) -> None:
    """66/b's cardiac system: a ``__main__`` smoke test runs it under no_grad, then steps
    the optimiser its own ``configure_optimizers()`` returns: every parameter trains."""
    write_project(tmp_path, {"system.py": SMOKE.format(optimizer=optimizer)})
    assert lint_in_process(tmp_path / "system.py", "GL406") == []


STAGES = """\
    import torch
    from torchvision import models


    def run_stage(model, loader, cfg):
        stage = cfg["recognition"]
        fz = stage.get("freeze_trunk", {{}})
        do_freeze = fz.get("enabled", False)
        if do_freeze:
            for p in model.trunk.parameters():
                p.requires_grad = False
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        for epoch in range(stage["epochs"]):
            model.train()
            for x, y in loader:
                loss = torch.nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()


    class Recogniser(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = models.resnet34(weights=None)

        def forward(self, x):
            return self.trunk(x)


    def main(loader, cfg):
        model = Recogniser()
        run_stage(model, loader, cfg)
"""

SECTION = "recognition:\n  epochs: 40\n  freeze_trunk:\n    enabled: {}\n    epochs: 0\nearly_stop:\n  enabled: true\n"


@pytest.mark.parametrize(("configs", "expected"), [
    ({"base.yaml": SECTION.format("false"), "r34.yaml": SECTION.format("false")}, []),
    ({"base.yaml": SECTION.format("true")}, [("GL406", 11)]),
    ({}, [("GL406", 11)]),  # no configuration to read: the switch is the user's, the freeze may run
])
def test_a_freeze_switched_by_a_nested_config_entry_every_yaml_file_turns_off(tmp_path: Path, configs: dict,
                                                                             expected: list) -> None:
    """66/a's sign-language ablations: ``do_freeze = cfg[...].get("freeze_backbone",
    {}).get("enabled", False)`` with ``freeze_backbone: enabled: false`` in every config (an
    ``enabled: true`` of another section does not count)."""
    write_project(tmp_path, {"stages.py": STAGES, **{f"configs/{n}": t for n, t in configs.items()}})
    findings = lint_in_process(tmp_path / "stages.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


ONCE = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    def main(loader, epochs=20):
        model = models.resnet50(weights="DEFAULT")
        model.fc = nn.Linear(2048, 4)
        # keep the BatchNorm statistics of the pretrained network
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
                {freeze}
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
        for epoch in range(epochs):
            model.train()
            {again}
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
"""
FREEZE_BN = "m.weight.requires_grad = False; m.bias.requires_grad = False"
EVAL_AGAIN = "model.apply(lambda m: m.eval() if isinstance(m, nn.BatchNorm2d) else None)"


@pytest.mark.parametrize(("freeze", "again", "expected"), [
    (FREEZE_BN, "", [("GL406", 12)]),  # (at the eval the epochs undo)
    ("for p in m.parameters(): p.requires_grad = False", "", [("GL406", 12)]),
    (FREEZE_BN, EVAL_AGAIN, []),  # put back in eval after every model.train()
    ("pass", "", []),  # trainable BatchNorm layers: not a frozen module (the eval once is only undone)
])
def test_batchnorm_frozen_and_put_in_eval_once_before_an_epoch_loop_that_calls_train(
        tmp_path: Path, freeze: str, again: str, expected: list) -> None:
    """66/c's plant diagnostics: every BatchNorm2d frozen and put in eval once ("freeze BN
    stats/params"), then ``model.train()`` at the top of each epoch puts them all back."""
    write_project(tmp_path, {"train.py": ONCE.format(freeze=freeze, again=again)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("BatchNorm layers (put in eval mode once, before the epochs)" in f.message for f in findings)


BASE = """\
    import pytorch_lightning as pl
    import torch
    import torch.nn.functional as F


    class Base(pl.LightningModule):
        def __init__(self, lr=1e-3, head_only=True):
            super().__init__()
            self.lr = lr
            self.head_only = head_only

        def training_step(self, batch, idx):
            x, y = batch
            return F.cross_entropy(self(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=self.lr)
"""

CHILD = """\
    import torch.nn as nn
    {imports}
    from {base_module} import Base


    class Child(Base):
        def __init__(self, classes, head_only=True):
            super().__init__(head_only=head_only)
            self.net = {build}
            self.net.{head} = nn.Linear(self.net.{head}.in_features, classes)
            if head_only:
                for p in self.net.parameters():
                    p.requires_grad = False
                for p in self.net.{head}.parameters():
                    p.requires_grad = True

        def forward(self, x):
            return self.net(x)
"""

TORCHVISION = ("from torchvision import models", "models.densenet121(weights=\"DEFAULT\")", "classifier")
LUKEMELAS = ("from efficientnet_pytorch import EfficientNet", "EfficientNet.from_pretrained(\"efficientnet-b3\")", "_fc")
VIT = ("import timm", "timm.create_model(\"vit_small_patch16_224\")", "head")


@pytest.mark.parametrize(("model", "base_module", "expected"), [
    (TORCHVISION, "models.base", [("GL406", 13)]),
    (LUKEMELAS, "models.base", [("GL406", 13)]),
    (VIT, "models.base", []),  # LayerNorm only
    (TORCHVISION, "models.plain", []),  # a base that is no LightningModule: nothing trains it here
])
def test_a_lightning_module_whose_training_step_is_its_imported_base_classs(tmp_path: Path, model: tuple,
                                                                           base_module: str, expected: list) -> None:
    """66/b's Lightning classifiers: each model class in its own module subclasses a
    ``BaseClassifier(pl.LightningModule)`` of another module that holds ``training_step``,
    and freezes all but the head under ``tune_fc_only=True``."""
    imports, build, head = model
    write_project(tmp_path, {"models/__init__.py": "", "models/base.py": BASE,
                             "models/plain.py": BASE.replace("pl.LightningModule", "object").replace(
                                 "def training_step", "def step"),
                             "models/child.py": CHILD.format(imports=imports, build=build, head=head,
                                                             base_module=base_module)})
    findings = lint_in_process(tmp_path / "models" / "child.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("Lightning's Trainer" in f.message for f in findings)


PHASES = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    def run(loader, head_epochs=3, full_epochs=18):
        model = models.resnet50(weights="DEFAULT")
        model.fc = nn.Linear(2048, 7)
        # phase 1: the head alone
        for p in model.parameters():
            p.requires_grad = False
        for p in model.fc.parameters():
            p.requires_grad = True
        {head_optimiser}
        for epoch in range(head_epochs):
            model.train()
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        # phase 2: the last stages too, the stem stays frozen
        for p in model.parameters():
            p.requires_grad = False
        for name, p in model.named_parameters():
            if name.startswith(("layer3", "layer4", "fc")):
                p.requires_grad = True
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        for epoch in range(full_epochs):
            model.train()
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
"""


@pytest.mark.parametrize("head_optimiser", ["opt = torch.optim.AdamW(model.fc.parameters(), lr=1e-3)",
                                            "opt = torch.optim.AdamW(model.parameters(), lr=1e-3)"])
def test_a_head_phase_then_a_second_freeze_reported_at_the_second(tmp_path: Path, head_optimiser: str) -> None:
    """66/c's plant diagnostics: a short head-only phase, then ``# Phase 2`` freezes the whole
    network again and reopens the last stages for the long run: one finding, at the second
    freeze (the one the long training sees)."""
    write_project(tmp_path, {"run.py": PHASES.format(head_optimiser=head_optimiser)})
    findings = lint_in_process(tmp_path / "run.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 24)]
    assert "`model.layer3`" in findings[0].message



PERCEPTUAL = """\
    import torch.nn as nn
    import torchvision


    class FeatureLoss(nn.Module):
        def __init__(self, cut, arch):
            super().__init__()
            if arch == "vgg16_bn":
                net = torchvision.models.vgg16_bn(weights="DEFAULT")
            elif arch == "vgg19":
                net = torchvision.models.vgg19(weights="DEFAULT")
            else:
                raise ValueError(arch)
            self.features = nn.Sequential(*list(net.features.children())[:cut])
            for p in self.features.parameters():
                p.requires_grad = False

        def forward(self, a, b):
            return nn.functional.l1_loss(self.features(a), self.features(b))
"""

SR = """\
    import torch
    from losses import FeatureLoss


    def fit(generator, loader):
        texture = FeatureLoss(27, {arch!r})
        opt = torch.optim.Adam(generator.parameters())
        for epoch in range(100):
            for lr, hr in loader:
                loss = texture(generator(lr), hr)
                opt.zero_grad()
                loss.backward()
                opt.step()
"""


@pytest.mark.parametrize(("arch", "expected"), [("vgg16_bn", [("GL406", 6)]), ("vgg19", [])])
def test_a_loss_network_whose_batchnorm_depends_on_the_arm_its_argument_picks(tmp_path: Path, arch: str,
                                                                             expected: list) -> None:
    """Round 65s/b's super-resolution losses (the look-alike its first run reported): the
    class binds ``vgg16_bn`` or ``vgg19`` by its ``arch`` argument, which has no default;
    only the BatchNorm arm is a frozen BatchNorm network."""
    write_project(tmp_path, {"losses.py": PERCEPTUAL, "sr.py": SR.format(arch=arch)})
    findings = lint_in_process(tmp_path / "sr.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
