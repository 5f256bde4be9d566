"""GL406 shapes from held-out round 29 (real code, ``bench/heldout/round29``):

- a LightningModule keeps ``self.feature_map = nn.Sequential(*list(self.model.children())[:-2])``
  for class-activation maps and runs it only under ``torch.no_grad()`` in an inference
  helper, while ``self.model`` itself is optimised and trained: the Sequential shares the
  model's layers, so nothing is frozen (a false alarm on a pneumonia classifier).
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
