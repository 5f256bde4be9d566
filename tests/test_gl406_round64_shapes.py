"""GL406 shapes of held-out round 64 (``bench/heldout/round64``), in our own words: an
art-style classifier whose freeze flag is a comparison with a command-line option's default
(``freeze = args.strategy == "frozen"``, 64/a)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

NETWORK = """\
    import torch.nn as nn
    from torchvision import models


    def build_densenet121(num_classes, freeze_backbone=False):
        model = models.densenet121(weights="DEFAULT")
        if freeze_backbone:
            for weight in model.parameters():
                weight.requires_grad = False
        model.classifier = nn.Linear(model.classifier.in_features, num_classes)
        return model
"""

TRANSFER = """\
    import argparse
    import torch
    from network import build_densenet121


    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("--strategy", choices=["frozen", "full"], default="{default}")
        args = parser.parse_args()
        freeze = {test}
        model = build_densenet121(27, freeze_backbone=freeze)
        optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
        for epoch in range(20):
            model.train()
            for x, y in []:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
"""


@pytest.mark.parametrize(("default", "test", "found"), [
    ("frozen", '(args.strategy == "frozen")', True),
    ("full", '(args.strategy == "frozen")', False),
    ("full", 'args.strategy != "frozen"', True),
])
def test_a_freeze_flag_comparing_an_option_with_its_default(tmp_path: Path, default: str, test: str,
                                                             found: bool) -> None:
    write_project(tmp_path, {"network.py": NETWORK, "transfer.py": TRANSFER.format(default=default, test=test)})
    findings = lint_in_process(tmp_path / "transfer.py", "GL406")
    assert [(f.code, f.line) for f in findings] == ([("GL406", 11)] if found else [])


GAN = """\
    import torch
    import torch.nn as nn


    def make_discriminator():
        return nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.LeakyReLU(0.2),
                             nn.Flatten(), nn.LazyLinear(1))


    class Trainer:
        def __init__(self, generator):
            self.netG = generator
            self.netD = make_discriminator()
            self.g_optimizer = torch.optim.Adam(self.netG.parameters())
            self.d_optimizer = torch.optim.Adam(self.netD.parameters())

        def init_train(self):
            self.netG.train()
            self.netD.train()

        def optimize_parameters(self, low, high):
            for p in self.netD.parameters():
                p.requires_grad = True
            self.d_optimizer.zero_grad()
            fake = self.netG(low)
            d_loss = 1 - self.netD(high).mean() + self.netD(fake.detach()).mean()
            d_loss.backward()
            {d_step}
            for p in self.netD.parameters():
                p.requires_grad = False
            self.g_optimizer.zero_grad()
            g_loss = 1 - self.netD(fake).mean()
            g_loss.backward()
            self.g_optimizer.step()
"""


def test_a_discriminator_unfrozen_and_stepped_before_the_generator_step_is_trained(tmp_path: Path) -> None:
    # (round 64/c's look-alike: the GAN toggle; the freeze is for G's step, D steps before it)
    write_project(tmp_path, {"gan.py": GAN.format(d_step="self.d_optimizer.step()")})
    assert lint_in_process(tmp_path / "gan.py", "GL406") == []


LINEAR_PROBE = """\
    import torch
    import torch.nn as nn
    from pytorch_lightning import LightningModule, Trainer
    from torchvision import models


    class LinearProbe(LightningModule):
        def __init__(self, classes):
            super().__init__()
            self.model = models.densenet169(weights="DEFAULT")
            freeze_model(self.model)
            self.model.classifier = nn.Linear(1664, classes)

        def forward(self, x):
            return self.model(x)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return nn.functional.binary_cross_entropy_with_logits(self(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam([p for p in self.parameters() if p.requires_grad])


    def freeze_model(model):
        for param in model.parameters():
            param.requires_grad = False


    def main():
        model_type = LinearProbe
        model = model_type(14)
        Trainer(max_epochs=20).fit(model=model)
"""


def test_a_lightning_module_built_through_a_name_bound_to_its_class(tmp_path: Path) -> None:
    # (round 64/c's chest X-ray linear probe: ``model_type = CXRModel_LinearProbing``)
    write_project(tmp_path, {"probe.py": LINEAR_PROBE})
    findings = lint_in_process(tmp_path / "probe.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 11)]
    assert "`model.model` has BatchNorm layers" in findings[0].message
