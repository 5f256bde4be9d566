"""GL406 misses of held-out round 47's first run (``bench/heldout/round47/a``: segmentation
exercises of a deep-learning course, each a LightningModule that Lightning's Trainer puts in
train mode), in our own words.

- A pretrained MobileNet's ``features`` frozen as a local, then spliced into ``self.model =
  nn.Sequential(*list(features.children()), <decoder>)``: the first layers of ``self.model``
  are the frozen ones.
- ``configure_optimizers`` taking only ``self.head.parameters()``: ``self.trunk``, a slice
  of a pretrained ResNet, is never optimised, and its BatchNorm runs in train mode.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

SPLICED = """\
import torch
import torch.nn as nn
import pytorch_lightning as pl
from torchvision import models


class Segmenter(pl.LightningModule):
    def __init__(self):
        super().__init__()
        features = models.mobilenet_v2(pretrained=True).features
        for param in features.parameters():
            param.requires_grad = {requires_grad}
        self.model = nn.Sequential(
            *list(features.children()),
            nn.Conv2d(1280, 23, 1),
            nn.BatchNorm2d(23),
        )

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
"""


def test_a_frozen_local_spliced_into_a_sequential_of_the_module(tmp_path: Path) -> None:
    path = tmp_path / "seg.py"
    path.write_text(SPLICED.format(requires_grad="False"))
    [finding] = lint_in_process(path, "GL406")
    assert (finding.code, finding.line) == ("GL406", 12)
    assert "`self.model` has BatchNorm layers and the layers of `features` it holds are frozen" in finding.message
    assert "which `self.model` holds (line 13)" in finding.message
    path.write_text(SPLICED.format(requires_grad="True"))
    assert lint_in_process(path, "GL406") == []


HEAD_ONLY = """\
import torch
import torch.nn as nn
import pytorch_lightning as pl
import torchvision.models as models


class Segmenter(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(*list(models.resnet18(pretrained=True).children())[:-3])
        self.head = nn.Sequential(nn.Conv2d(256, 23, 1), nn.BatchNorm2d(23))
        self.loss = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.head(self.trunk(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.loss(self(x), y)

    def configure_optimizers(self):
        return {optimizers}
"""


def test_a_part_configure_optimizers_leaves_out(tmp_path: Path) -> None:
    path = tmp_path / "seg.py"
    path.write_text(HEAD_ONLY.format(optimizers="torch.optim.Adam(self.head.parameters(), lr=1e-3)"))
    [finding] = lint_in_process(path, "GL406")
    assert (finding.code, finding.line) == ("GL406", 22)
    assert "`self.trunk` has BatchNorm layers and only `self.head` is optimised here" in finding.message


def test_a_part_another_optimiser_takes_is_trained(tmp_path: Path) -> None:
    path = tmp_path / "seg.py"
    path.write_text(HEAD_ONLY.format(optimizers="[torch.optim.Adam(self.head.parameters()), "
                                                "torch.optim.SGD(self.trunk.parameters(), lr=1e-4)]"))
    assert lint_in_process(path, "GL406") == []


def test_a_part_run_only_in_validation_is_not_trained_in_train_mode(tmp_path: Path) -> None:
    # a metric network left out of the optimiser but read only by validation_step: Lightning
    # runs it in eval mode, its BatchNorm never sees a training batch
    script = HEAD_ONLY.format(optimizers="torch.optim.Adam(self.head.parameters(), lr=1e-3)")
    script = script.replace("return self.head(self.trunk(x))", "return self.head(x)").replace(
        "    def configure_optimizers(self):",
        "    def validation_step(self, batch, batch_idx):\n        x, y = batch\n"
        "        self.log('feature_norm', self.trunk(x).norm())\n\n    def configure_optimizers(self):")
    path = tmp_path / "seg.py"
    path.write_text(script)
    assert lint_in_process(path, "GL406") == []


LEARNING_WITHOUT_FORGETTING = """\
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models


class Incremental(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.net = models.resnet34(weights=None)
        self.net.fc = nn.Linear(512, n_classes)

    def forward(self, x):
        return self.net(x)

    def update(self, loader, epochs):
        prev_model = copy.deepcopy(self)
        optimizer = torch.optim.SGD(self.parameters(), lr=0.01)
        for epoch in range(epochs):
            for x, y in loader:
                optimizer.zero_grad()
                logits = self.forward(x)
                target = prev_model.forward(x)
                loss = F.cross_entropy(logits, y) + F.kl_div(F.log_softmax(logits, 1), F.softmax(target, 1))
                loss.backward()
                optimizer.step()
"""


def test_a_copy_of_the_model_kept_as_a_distillation_target(tmp_path: Path) -> None:
    # (round 47/c, ngailapdi+LWF: learning without forgetting; the copy is never optimised)
    write_project(tmp_path, {"model.py": LEARNING_WITHOUT_FORGETTING})
    [finding] = lint_in_process(tmp_path / "model.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 25)
    assert finding.message.startswith("`prev_model` has BatchNorm layers and no optimiser of the file takes its "
                                      "parameters, but nothing puts it in eval mode")


def test_the_copy_put_in_eval_mode_is_quiet(tmp_path: Path) -> None:
    source = LEARNING_WITHOUT_FORGETTING.replace("prev_model = copy.deepcopy(self)",
                                                 "prev_model = copy.deepcopy(self).eval()")
    write_project(tmp_path, {"model.py": source})
    assert lint_in_process(tmp_path / "model.py", "GL406") == []
