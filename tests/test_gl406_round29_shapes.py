"""GL406 shapes from held-out round 29 (real code, ``bench/heldout/round29``):

- a LightningModule keeps ``self.feature_map = nn.Sequential(*list(self.model.children())[:-2])``
  for class-activation maps and runs it only under ``torch.no_grad()`` in an inference
  helper, while ``self.model`` itself is optimised and trained: the Sequential shares the
  model's layers, so nothing is frozen (a false alarm on a pneumonia classifier);
- a factory freezes a local torchvision backbone under ``if not fine_tune:`` (an option off
  by default), wraps it in a project class that keeps it as ``self.backbone``, and returns
  the wrapper, which an imported ``train_step`` puts in train mode (a fundus classifier).
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

PNEUMONIA = """\
import torch
import torchvision
import pytorch_lightning as pl


class PneumoniaModel(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = torchvision.models.resnet18()
        self.model.fc = torch.nn.Linear(512, 1)
        self.feature_map = torch.nn.Sequential(*list({viewed}.children())[:-2])
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-4)
        self.loss_fn = torch.nn.BCEWithLogitsLoss()

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.loss_fn(self(x)[:, 0], y.float())

    def configure_optimizers(self):
        return [self.optimizer]

    def calc_feature_map(self, x):
        with torch.no_grad():
            return self.feature_map(x)
"""


def test_a_sequential_of_a_trained_models_children_run_under_no_grad_is_not_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"pneumonia_model.py": PNEUMONIA.format(viewed="self.model")})
    assert lint_in_process(tmp_path / "pneumonia_model.py", "GL406") == []


def test_a_sequential_of_another_models_children_is_still_frozen_by_no_grad(tmp_path: Path) -> None:
    # the same shape over a second resnet nobody optimises: run only under no_grad, in train mode
    script = PNEUMONIA.format(viewed="torchvision.models.resnet50()")
    write_project(tmp_path, {"pneumonia_model.py": script})
    [finding] = lint_in_process(tmp_path / "pneumonia_model.py", "GL406")
    assert finding.line == 27 and "`self.feature_map` has BatchNorm layers and it runs under torch.no_grad()" in finding.message


def test_a_factory_returning_its_frozen_model_through_typing_cast(tmp_path: Path) -> None:
    # ``return cast(nn.Module, model)``: the frozen model itself (a typed pneumonia classifier, round 29)
    write_project(tmp_path, {
        "models.py": """\
            from typing import cast

            import torch.nn as nn
            from torchvision import models


            def create_model(num_classes: int = 2) -> nn.Module:
                model = models.resnet18(weights=None)
                for param in model.parameters():
                    param.requires_grad = False
                model.fc = nn.Linear(512, num_classes)
                return cast(nn.Module, model)
            """,
        "train.py": """\
            import torch
            from torch import nn
            from models import create_model

            model = create_model()
            optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
            for epoch in range(10):
                model.train()
                for x, y in []:
                    optimizer.zero_grad()
                    nn.functional.cross_entropy(model(x), y).backward()
                    optimizer.step()
            """,
    })
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 5 and "`create_model` (models.py:9) returns it with its parameters frozen" in finding.message


def test_a_train_method_called_with_other_keywords_is_no_mode_switch(tmp_path: Path) -> None:
    # ``federated_trainer.train(rounds=10)`` of an imported trainer class is its own method, not
    # nn.Module.train(mode) putting the frozen model it holds in train mode (a look-alike of
    # held-out round 21, reported by a regression run of this session)
    write_project(tmp_path, {
        "fed.py": """\
            import torch
            from torch import nn
            from torchvision import models


            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.backbone = models.resnet50(weights=None)
                    self.backbone.requires_grad_(False)
                    self.head = nn.Linear(1000, 2)

                def forward(self, x):
                    return self.head(self.backbone(x))


            class FederatedTrainer:
                def __init__(self, loader):
                    self.loader = loader
                    self.global_model = Net()
                    self.global_model.eval()  # its head trains on features, its mode never changes
                    self.optimizer = torch.optim.Adam(self.global_model.head.parameters())

                def train(self, rounds=1):
                    for _ in range(rounds):
                        for x, y in self.loader:
                            self.optimizer.zero_grad()
                            with torch.no_grad():
                                feats = self.global_model.backbone(x)
                            nn.functional.cross_entropy(self.global_model.head(feats), y).backward()
                            self.optimizer.step()
            """,
        "main.py": """\
            from fed import FederatedTrainer

            federated_trainer = FederatedTrainer([])
            history = federated_trainer.train(rounds=10)
            """,
    })
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


DUAL = """\
import torch
import torchvision
from torch import nn


class Dual(nn.Module):
    def __init__(self, backbone, n_in, n_out):
        super().__init__()
        self.backbone = backbone
        self.classifier = nn.Linear(n_in * 2, n_out)
{train}
    def forward(self, a, b):
        return self.classifier(torch.cat((self.backbone(a), self.backbone(b)), dim=1))


def create(version=0, fine_tune=False):
    backbone = torchvision.models.resnet50(weights=None)
    if not fine_tune:
        for param in backbone.parameters():
            param.requires_grad = False
    n_in = backbone.fc.in_features
    backbone.fc = nn.Identity()
    if version == 0:
        model = Dual(backbone=backbone, n_in=n_in, n_out=8)
    else:
        model = Dual(backbone, n_in, 4)
    return model
"""

ENGINE = """\
def train_step(model, loader, loss_fn, optimizer):
    model.train()
    for a, b, y in loader:
        loss = loss_fn(model(a, b), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""

SCRIPT = """\
import argparse
import torch
from models import create
from engine import train_step

parser = argparse.ArgumentParser()
parser.add_argument("--fine_tune", action="store_true")
parser.add_argument("--version", type=int, default=0)
opt = parser.parse_args()
if opt.version == 0:
    model = create({passed})
else:
    model = create(version=1, {passed})
loss_fn = torch.nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(10):
    train_step(model, [], loss_fn, optimizer)
"""

KEEPS_EVAL = """
    def train(self, mode=True):
        super().train(mode)
        self.backbone.eval()
        return self
"""


def test_a_factory_wrapping_its_frozen_backbone_in_a_project_class(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": DUAL.format(train=""), "engine.py": ENGINE,
                             "main.py": SCRIPT.format(passed="fine_tune=opt.fine_tune")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 11)  # one finding for both arms of the if
    assert "`model.backbone` has BatchNorm layers and `create` (models.py:19) returns it" in finding.message
    assert "`model.train()` in `train_step` (engine.py:2)" in finding.message


def test_the_wrapped_backbone_fine_tuned_or_kept_in_eval_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": DUAL.format(train=""), "engine.py": ENGINE,
                             "main.py": SCRIPT.format(passed="fine_tune=True")})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []
    write_project(tmp_path, {"models.py": DUAL.format(train=KEEPS_EVAL),
                             "main.py": SCRIPT.format(passed="fine_tune=opt.fine_tune")})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []
