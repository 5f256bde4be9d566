"""GL215 through a step a base class hands down (held-out round 81/a, in our own words): a
base class without a ``forward`` applies ``F.cross_entropy(self(images), labels)`` in its
``training_step``, and the subclass that inherits the step ends its ``forward`` in softmax."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

BASE_AND_MODEL = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class ClassifierBase(nn.Module):
    def training_step(self, batch):
        images, labels = batch
        out = self(images)
        return F.cross_entropy(out, labels)

    def validation_step(self, batch):
        images, labels = batch
        return {{"val_loss": F.cross_entropy(self(images), labels).detach()}}


class FruitNet(ClassifierBase):
    def __init__(self, classes):
        super().__init__()
        self.fc = nn.Linear(64, classes)
{override}
    def forward(self, x):
        x = self.fc(x)
        return {ending}


def fit(epochs, model, loader):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(epochs):
        model.train()
        for batch in loader:
            loss = model.training_step(batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()


model = FruitNet(55)
fit(10, model, [])
"""

OVERRIDE = """\
    def training_step(self, batch):
        images, labels = batch
        return F.nll_loss(torch.log(self(images)), labels)
"""


def _source(ending: str, override: str = "") -> str:
    return BASE_AND_MODEL.format(ending=ending, override=override)


def test_a_subclass_ending_in_softmax_trained_by_its_base_class_step(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": _source("F.softmax(x, dim=1)")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 10)
    assert finding.message.startswith("FruitNet's output (line 24) is softmax probabilities, and this line feeds it "
                                      "to F.cross_entropy")


def test_a_subclass_ending_in_log_softmax_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": _source("F.log_softmax(x, dim=1)")})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []


def test_a_subclass_with_a_step_of_its_own_does_not_take_the_base_class_step(tmp_path: Path) -> None:
    source = _source("F.softmax(x, dim=1)", OVERRIDE).replace("    def validation_step", "    def _unused_check")
    source = source.replace("F.cross_entropy(self(images), labels).detach()", "0.0")
    write_project(tmp_path, {"train.py": source})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []
