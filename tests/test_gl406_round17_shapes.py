"""GL406 on shapes held-out round 17 (/work/heldout46) found it could not read; each
project is written here in our own words:
- a course's ``engine.train(model)`` handing ``model.to(device)`` to ``train_step``, which
  calls ``model.train()``;
- a wrapper class keeping ``self.features = model.features`` after freezing
  ``model.features``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

BUILDER = """\
    import torchvision
    from torch import nn


    def create_effnet(num_classes=101):
        model = torchvision.models.efficientnet_b2(weights=None)
        for param in model.parameters():
            param.requires_grad = False
        model.classifier = nn.Linear(1408, num_classes)
        return model
"""

ENGINE = """\
    import torch


    def train_step(model, loader, loss_fn, optimizer):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()


    def train(model, loader, loss_fn, optimizer, epochs, device):
        for epoch in range(epochs):
            train_step(model={passed}, loader=loader, loss_fn=loss_fn, optimizer=optimizer)
"""

SCRIPT = """\
    import torch
    from torch import nn

    from engine import train
    from model_builder import create_effnet

    model = create_effnet()
    optimizer = torch.optim.Adam(model.parameters())
    train(model, [], nn.CrossEntropyLoss(), optimizer, 5, "cpu")
"""


def test_a_training_function_handing_the_model_moved_to_a_device_on(tmp_path: Path) -> None:
    write_project(tmp_path, {"model_builder.py": BUILDER, "engine.py": ENGINE.format(passed="model.to(device)"),
                             "train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert "but `model.train()` in `train` (engine.py:14, through `train_step` at engine.py:5)" in finding.message


def test_a_training_function_handing_on_another_model_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"model_builder.py": BUILDER, "engine.py": ENGINE.format(passed="nn.Linear(2, 2)"),
                             "train.py": SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


WRAPPER = """\
    import torch
    import torchvision
    from torch import nn


    class EfficientNet(nn.Module):
        def __init__(self, classes):
            super().__init__()
            model = torchvision.models.efficientnet_b0(weights=None)
            for param in model.{frozen}.parameters():
                param.requires_grad = False
            self.features = model.features
            self.avgpool = model.avgpool
            self.classifier = nn.Linear(1280, classes)

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


    model = EfficientNet(3)
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(5):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


def test_a_frozen_part_kept_as_an_attribute_of_the_wrapper(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": WRAPPER.format(frozen="features")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 11)
    assert finding.message.startswith("`model.features` has BatchNorm layers and its parameters are frozen here")


def test_a_frozen_part_the_wrapper_does_not_keep_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": WRAPPER.format(frozen="classifier")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
