"""GL406 on held-out round 51 (``bench/heldout/round51``), in our own words: an incremental
learner (iCaRL) whose feature extractor is a part of the model it trains, run under
``no_grad`` only for the exemplar means; ``self.model(x)`` runs the same part with gradients
in training, so it is not frozen."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

LEARNER = """\
import torch
import torch.nn as nn
from torchvision import models


class Net(nn.Module):
    def __init__(self, features_extractor):
        super().__init__()
        self.features_extractor = features_extractor
        self.fc = nn.Linear(512, 100)

    def forward(self, x):
        return self.fc(self.features_extractor(x))


class Learner:
    def __init__(self):
        backbone = models.resnet18(weights=None)
        backbone.fc = nn.Identity()
        self.model = Net(backbone)

    def train_task(self, loader):
        optimizer = torch.optim.SGD(self.model.parameters(), lr=2.0)
        for epoch in range(10):
            self.model.train()
            for x, y in loader:
                optimizer.zero_grad()
                {run}
                loss.backward()
                optimizer.step()

    def exemplar_means(self, loader):
        with torch.no_grad():
            for x, _ in loader:
                feats = nn.functional.normalize(self.model.features_extractor(x))
        return feats
"""


def test_a_part_the_trained_model_runs_with_gradients_is_not_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"icarl.py": LEARNER.replace("{run}", "loss = nn.functional.cross_entropy(self.model(x), y)")})
    assert lint_in_process(tmp_path / "icarl.py", "GL406") == []


def test_the_part_never_run_with_gradients_is_frozen(tmp_path: Path) -> None:
    # (the classifier trains on features computed without gradients: the extractor never learns)
    run = ("with torch.no_grad():\n                    f = self.model.features_extractor(x)\n"
           "                loss = nn.functional.cross_entropy(self.model.fc(f), y)")
    write_project(tmp_path, {"icarl.py": LEARNER.replace("{run}", run)})
    [finding] = lint_in_process(tmp_path / "icarl.py", "GL406")
    assert finding.code == "GL406"
    assert finding.message.startswith("`self.model.features_extractor` has BatchNorm layers and it only ever runs under "
                                      "torch.no_grad()")
