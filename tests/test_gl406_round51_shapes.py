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


# An image-captioning encoder keeps the convolutional stages of a VGG-BN and trains only the
# last few layers; the freeze is written as a conditional expression over an enumerate.
CAPTION_ENCODER = """\
import torch.nn as nn
import torchvision.models as models


class ImageEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        backbone = models.{arch}(weights=None)
        self.body = nn.Sequential(*list(backbone.children())[{index}][:-1])
        keep_from = len(self.body) - 3
        for i, layer in enumerate(self.body):
            for weight in layer.parameters():
                weight.requires_grad = False if i < keep_from else True

    def forward(self, images):
        return self.body(images).flatten(2)
"""

CAPTION_TRAIN = """\
import torch
from encoder import ImageEncoder

image_encoder = ImageEncoder()
head = torch.nn.Linear(512, 10)
opt = torch.optim.Adam(list(filter(lambda p: p.requires_grad, image_encoder.parameters())) + list(head.parameters()))
for epoch in range(20):
    image_encoder.train()
    for images, target in []:
        loss = torch.nn.functional.cross_entropy(head(image_encoder(images).mean(2)), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
"""


def test_a_conditional_expression_freezing_all_but_the_last_layers_is_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"encoder.py": CAPTION_ENCODER.format(arch="vgg19_bn", index=0), "train.py": CAPTION_TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 4)
    assert "`ImageEncoder` (encoder.py:11) returns it with all but its last 3 child modules frozen" in finding.message
    assert "`image_encoder.train()` on line 8" in finding.message


def test_the_stem_convolution_of_a_resnet_holds_no_batchnorm(tmp_path: Path) -> None:
    # (a ResNet's first child is conv1: a slice of it holds no BatchNorm to drift)
    write_project(tmp_path, {"encoder.py": CAPTION_ENCODER.format(arch="resnet50", index=0), "train.py": CAPTION_TRAIN})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_vgg_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"encoder.py": CAPTION_ENCODER.format(arch="vgg19", index=0), "train.py": CAPTION_TRAIN})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
