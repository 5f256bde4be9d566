"""GL406 false findings of held-out round 46's first run (real code, ``bench/heldout/round46``),
in our own words.

- 46/a jpfrare: a LightningModule freezing its backbone under ``if self.freeze_backbone:``
  (the attribute set from a constructor flag whose default is ``False``), never built in
  its file.
- 46/a boostcamp: a script's validation block ``with torch.no_grad(): model.eval(); ...
  model(x)`` on a name bound to the trained model (``model = target_model``).
- 46/a el-lilya: a model built by a class that freezes only for some ``stage`` values, in an
  arm ``if stage in ['no_pretrain', 'check_clip']:`` that the script's constant ``stage =
  'iNat2021_sup'`` never takes.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

LIGHTNING = """\
import lightning as L
import torch
from torch import nn
from torchvision.models import segmentation


def deactivate_requires_grad(model):
    for param in model.parameters():
        param.requires_grad = False


class SegModule(L.LightningModule):
    def __init__(self, freeze_backbone={default}):
        super().__init__()
        self.backbone = segmentation.deeplabv3_resnet50(weights="DEFAULT").backbone
        self.head = nn.Conv2d(2048, 6, 1)
        self.freeze_backbone = freeze_backbone
        if self.freeze_backbone:
            deactivate_requires_grad(self.backbone)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self.head(self.backbone(x)["out"]), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
"""


def test_a_freeze_under_a_self_flag_whose_default_is_off_is_not_reported_in_its_file(tmp_path: Path) -> None:
    write_project(tmp_path, {"off.py": LIGHTNING.format(default="False"), "on.py": LIGHTNING.format(default="True")})
    assert lint_in_process(tmp_path / "off.py", "GL406") == []
    [finding] = lint_in_process(tmp_path / "on.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 19)


VALIDATION = """\
import torch
from torch import nn
from torchvision import models

target_model = models.resnet18(weights="DEFAULT")
model = target_model
optimizer = torch.optim.Adam(target_model.parameters(), lr=1e-3)
for epoch in range(10):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():{evaluated}
        for x, y in []:
            outs = model(x)
"""


def test_a_validation_block_that_puts_the_model_in_eval_mode_freezes_nothing(tmp_path: Path) -> None:
    write_project(tmp_path, {"val.py": VALIDATION.format(evaluated="\n        model.eval()")})
    assert lint_in_process(tmp_path / "val.py", "GL406") == []


MODEL = """\
from torch import nn
from torchvision import models


class Model(nn.Module):
    def __init__(self, stage):
        super().__init__()
        self.model = models.resnet50(weights="DEFAULT")
        if stage in ["pretrain", "check_part_pretrain"]:
            for param in self.model.parameters():
                param.requires_grad = False
        self.model.fc = nn.Linear(2048, 10)

    def forward(self, x):
        return self.model(x)
"""

STAGES = """\
import torch
from torch import nn
from torchvision import models
from model import Model

stage = "{stage}"
if stage in ["no_pretrain", "check_clip"]:
    model = Model("pretrain")
else:
    model = models.resnet50(weights="DEFAULT")
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
for epoch in range(10):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_factory_freeze_in_an_arm_a_constant_never_takes_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODEL, "other.py": STAGES.format(stage="iNat2021_sup"),
                             "taken.py": STAGES.format(stage="check_clip")})
    assert lint_in_process(tmp_path / "other.py", "GL406") == []
    [finding] = lint_in_process(tmp_path / "taken.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 8)
