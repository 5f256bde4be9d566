"""GL406: a model only some of whose heads the optimiser takes (held-out round 57/b, a
report generator: ``params = list(img_enc.affine_a.parameters()) +
list(img_enc.affine_b.parameters()) + list(decoder.parameters())``, with ``img_enc`` wrapped
in ``nn.DataParallel`` in one arm): its DenseNet never changes, while ``img_enc.train()``
each batch lets its BatchNorm statistics drift. Written in our own words."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODELS = """\
import torch.nn as nn
from torchvision import models


class ImageEncoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        densenet = models.densenet121(weights="DEFAULT")
        self.backbone = nn.Sequential(*list(densenet.features.children())[:-1])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.affine_a = nn.Linear(1024, hidden)
        self.affine_b = nn.Linear(1024, hidden)

    def forward(self, x):
        features = self.pool(self.backbone(x)).flatten(1)
        return self.affine_a(features), self.affine_b(features)
"""

TRAIN = """\
import torch
import torch.nn as nn

from models import ImageEncoder


def train(parallel, epochs, loader):
    img_enc = ImageEncoder(256)
    decoder = nn.LSTM(256, 256)
    if parallel:
        img_enc = nn.DataParallel(img_enc)
        params = list(img_enc.module.affine_a.parameters()) + list(img_enc.module.affine_b.parameters())
    else:
        params = list(img_enc.affine_a.parameters()) + list(img_enc.affine_b.parameters())
    params = params + list(decoder.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3)
    for epoch in range(epochs):
        for images, captions in loader:
            img_enc.train()
            decoder.train()
            a, b = img_enc(images)
            out, _ = decoder((a + b).unsqueeze(0))
            loss = out.pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


def _findings(tmp_path: Path, models: str = MODELS, train: str = TRAIN) -> list:
    write_project(tmp_path, {"models.py": models, "train.py": train})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_a_model_whose_heads_alone_are_optimised_drifts(tmp_path: Path) -> None:
    [finding] = _findings(tmp_path)
    assert finding.line == 16  # the optimiser
    assert ("`img_enc` has BatchNorm layers and only `img_enc.affine_a` and `img_enc.affine_b` are optimised here"
            in finding.message)
    assert "`img_enc.train()` on line 19" in finding.message


def test_batchnorm_only_in_an_optimised_head_is_quiet(tmp_path: Path) -> None:
    models = MODELS.replace('models.densenet121(weights="DEFAULT")', "models.vgg16(weights=None)").replace(
        "densenet.features.children()", "densenet.features.children()").replace(
        "self.affine_a = nn.Linear(1024, hidden)", "self.affine_a = nn.Sequential(nn.Linear(1024, hidden), nn.BatchNorm1d(hidden))")
    assert _findings(tmp_path, models=models) == []


def test_the_whole_encoder_optimised_too_is_quiet(tmp_path: Path) -> None:
    train = TRAIN.replace("params = params + list(decoder.parameters())",
                          "params = params + list(decoder.parameters()) + list(img_enc.parameters())")
    assert _findings(tmp_path, train=train) == []


FIRST_STEP = """\
import torch
import torch.nn as nn

from models import ImageEncoder

model = ImageEncoder(256)
optimizer = torch.optim.SGD([{"params": model.affine_a.parameters()}, {"params": model.affine_b.parameters()}], lr=1.0)
for epoch in range(50):
    model.train()
    for x, y in []:
        a, b = model(x)
        loss = nn.functional.cross_entropy(a + b, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.save(model.state_dict(), "firststep_" + str(epoch) + ".pth")
"""

# the separate fine-tuning run: the first step's checkpoint loaded, every parameter optimised
FINE_TUNE = FIRST_STEP.replace(
    "model = ImageEncoder(256)\n", 'model = ImageEncoder(256)\nmodel.load_state_dict(torch.load("firststep.pth"))\n').replace(
    'torch.optim.SGD([{"params": model.affine_a.parameters()}, {"params": model.affine_b.parameters()}], lr=1.0)',
    "torch.optim.SGD(model.parameters(), lr=0.01)").replace(
    '    torch.save(model.state_dict(), "firststep_" + str(epoch) + ".pth")\n', "")


def test_a_head_only_first_step_that_a_separate_script_fine_tunes_is_a_warm_up(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS, "train_model.py": FIRST_STEP, "finetune_model.py": FINE_TUNE})
    assert lint_in_process(tmp_path / "train_model.py", "GL406") == []


def test_the_same_first_step_with_no_fine_tuning_script_drifts(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS, "train_model.py": FIRST_STEP})
    [finding] = lint_in_process(tmp_path / "train_model.py", "GL406")
    assert finding.line == 7 and "only `model.affine_a` and `model.affine_b` are optimised here" in finding.message


def test_a_checkpoint_another_model_starts_from_is_no_warm_up(tmp_path: Path) -> None:
    # (a classifier whose weights a detector's script loads: the classifier's own run is the bug)
    detector = FINE_TUNE.replace("from models import ImageEncoder", "from detector import Detector").replace(
        "model = ImageEncoder(256)", "model = Detector()")
    write_project(tmp_path, {"models.py": MODELS, "train_model.py": FIRST_STEP, "train_detector.py": detector})
    [finding] = lint_in_process(tmp_path / "train_model.py", "GL406")
    assert finding.line == 7
