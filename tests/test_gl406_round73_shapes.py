"""GL406 shapes of held-out round 73 (``bench/heldout/round73``), in our own words:
distillation with a frozen teacher in a LightningModule."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

LIGHTNING_DISTILLER = """\
    import pytorch_lightning as pl
    import torch
    from torch import nn
    from torchvision import models


    class Distiller(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.teacher = models.resnet50(weights="DEFAULT")
            self.teacher.requires_grad_(False)
            self.student = models.resnet18(num_classes=1000)

        def training_step(self, batch, batch_idx):
            x, y = batch
    {step_eval}
            with torch.no_grad():
                soft = self.teacher(x).softmax(-1)
            out = self.student(x)
            return nn.functional.kl_div(out.log_softmax(-1), soft, reduction="batchmean")

        def configure_optimizers(self):
            return torch.optim.Adam(self.student.parameters(), lr=1e-3)


    lit = Distiller()
    pl.Trainer(max_epochs=3).fit(lit)
"""


@pytest.mark.parametrize(("step_eval", "expected"), [("        self.teacher.eval()", []),
                                                     ("        pass", [("GL406", 11)])])
def test_a_teacher_put_back_in_eval_mode_at_every_training_step(tmp_path: Path, step_eval: str,
                                                                expected: list) -> None:
    """Round 73/b's segmentation distiller: ``self.t_net.eval()`` first thing in
    ``training_step`` undoes the Trainer's ``train()`` before the teacher runs, at every step,
    like an ``on_train_batch_start`` hook; without it the teacher's BatchNorm drifts."""
    write_project(tmp_path, {"distil.py": LIGHTNING_DISTILLER.format(step_eval=step_eval)})
    findings = lint_in_process(tmp_path / "distil.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert "(which `Trainer(...).fit(lit)` on line 27 calls every training epoch)" in findings[0].message


BACKBONE = """\
    import torch
    import torchvision
    from torch import nn


    class Backbone(nn.Module):
        def __init__(self, model_name="resnet50", frozen_stages=2):
            super().__init__()
            if "swsl" in model_name:
                self.model = torch.hub.load("facebookresearch/semi-supervised-ImageNet1K-models", model_name)
            else:
                self.model = torchvision.models.resnet50(weights="IMAGENET1K_V1")
            if frozen_stages >= 0:
                self.model.conv1.requires_grad_(False)
                self.model.bn1.requires_grad_(False)
            if frozen_stages >= 1:
                self.model.layer1.requires_grad_(False)

        def forward(self, x):
            return self.model(x)
"""

BACKBONE_TRAINING = """\
    import torch

    from backbone import Backbone


    def main(loader):
        model = Backbone()
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
        for epoch in range(30):
            model.train()
            for x, y in loader:
                loss = model(x).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
"""


def test_a_frozen_resnet_stem_names_its_batchnorm_not_its_convolution(tmp_path: Path) -> None:
    """Round 73/b's place-recognition backbone freezes ``conv1``, ``bn1`` and ``layer1`` of a
    ResNet that one arm loads from a hub repository: the stem convolution holds no
    BatchNorm, so the finding names ``bn1`` and ``layer1``, not ``conv1``."""
    write_project(tmp_path, {"backbone.py": BACKBONE, "train.py": BACKBONE_TRAINING})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert finding.message.startswith("`model.model` has BatchNorm layers and `Backbone` (backbone.py:15) returns it "
                                      "with `model.model.bn1` and `model.model.layer1` frozen, but `model.train()` on "
                                      "line 10 puts it back in train mode")


TRAINER_CLASS = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    class FruitClassifier:
        def __init__(self):
            self.model = None
            self.device = "cpu"

        def build_model(self, feature_extract={default}):
            model = models.resnet18(weights="DEFAULT")
            if feature_extract:
                for param in model.parameters():
                    param.requires_grad = False
            model.fc = nn.Linear(512, 3)
            self.model = model.to(self.device)
            return self.model

        def train(self, loader, epochs=15):
            if self.model is None:
                self.build_model({passed})
            optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, self.model.parameters()))
            for epoch in range(epochs):
                self.model.train()
                for x, y in loader:
                    loss = nn.functional.cross_entropy(self.model(x), y)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
"""


@pytest.mark.parametrize(("default", "passed", "expected"), [
    ("True", "", [("GL406", 15)]),
    ("True", "feature_extract=False", []),
    ("False", "", []),
    ("False", "feature_extract=True", [("GL406", 15)]),
])
def test_a_plain_trainer_class_keeps_the_model_a_method_froze(tmp_path: Path, default: str, passed: str,
                                                               expected: list) -> None:
    """Round 73/a's fruit grader: ``build_model`` freezes a local ResNet when its
    ``feature_extract`` flag (True by default) is on, then keeps it as ``self.model =
    model.to(self.device)``; ``train`` calls ``self.build_model()`` and ``self.model.train()``.
    Every call of the method leaving the flag off (by its default or by name) freezes nothing."""
    write_project(tmp_path, {"classifier.py": TRAINER_CLASS.format(default=default, passed=passed)})
    findings = lint_in_process(tmp_path / "classifier.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert findings[0].message.startswith("`self.model` has BatchNorm layers and its parameters are frozen here as "
                                              "`model`, which `self.model` holds (line 17), but `self.model.train()` "
                                              "on line 25 puts it back in train mode")
