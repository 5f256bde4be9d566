"""GL406 shapes from held-out round 31 (real code, ``bench/heldout/round31``): a
captioning trainer class whose private method builds a frozen-ResNeXt encoder (a class of
another module freezing its backbone in ``__init__``), wraps it with the decoder in a
captioner class of a third module that keeps it as an attribute, and returns it; the
trainer keeps it as ``self.model`` and calls ``self.model.train()`` every epoch. Also the
simpler forms: the encoder kept directly, or returned by the method alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

ENCODER = """\
import torch.nn as nn
import torchvision.models as models


class EncoderCNN(nn.Module):
    def __init__(self, embed_size):
        super().__init__()
        self.resnet = models.resnext50_32x4d(weights=None)
        for param in self.resnet.parameters():
            param.requires_grad = False
        self.resnet.fc = nn.Linear(self.resnet.fc.in_features, embed_size)

    def forward(self, images):
        return self.resnet(images)
"""

CAPTIONER = """\
import torch.nn as nn


class ImageCaptioner(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.__encoder = encoder
        self.__decoder = decoder

    def forward(self, images):
        return self.__decoder(self.__encoder(images))
"""

TRAINER = """\
import torch
import torch.nn as nn
from encoder_cnn import EncoderCNN
from image_captioner import ImageCaptioner


class ModelTrainer:
    def __init__(self, loader):
        self.loader = loader
        self.model = {built}
        self.optimizer = torch.optim.Adam(self.model.parameters())

    def __get_init_model(self):
        encoder = EncoderCNN(256)
        decoder = nn.Linear(256, 10)
        model = ImageCaptioner(encoder, decoder)
        return model

    def __get_encoder(self):
        encoder = EncoderCNN(256)
        return encoder

    def train_one_epoch(self):
        self.model.train()
        for images, targets in self.loader:
            self.optimizer.zero_grad()
            nn.functional.cross_entropy(self.model(images), targets).backward()
            self.optimizer.step()
"""


@pytest.mark.parametrize(("built", "frozen"), [
    ("self.__get_init_model()", "self.model.__encoder.resnet"),  # the round's shape
    ("self.__get_encoder()", "self.model.resnet"),
    ("EncoderCNN(256)", "self.model.resnet"),
])
def test_a_trainer_class_keeping_a_model_with_a_frozen_encoder(tmp_path: Path, built: str, frozen: str) -> None:
    write_project(tmp_path, {"encoder_cnn.py": ENCODER, "image_captioner.py": CAPTIONER,
                             "trainer.py": TRAINER.format(built=built)})
    [finding] = lint_in_process(tmp_path / "trainer.py", "GL406")
    assert finding.code == "GL406" and finding.line == 10
    assert f"`{frozen}` has BatchNorm layers" in finding.message
    assert "`self.model.train()` on line 24 puts it back in train mode" in finding.message


def test_the_captioner_keeping_its_encoder_in_eval_is_not_reported(tmp_path: Path) -> None:
    keeps = CAPTIONER.replace("    def forward", "    def train(self, mode=True):\n        super().train(mode)\n"
                                              "        self.__encoder.eval()\n        return self\n\n    def forward")
    write_project(tmp_path, {"encoder_cnn.py": ENCODER, "image_captioner.py": keeps,
                             "trainer.py": TRAINER.format(built="self.__get_init_model()")})
    assert lint_in_process(tmp_path / "trainer.py", "GL406") == []


# round 32 (bench/heldout/round32): a freezing helper of another module counting the
# children of ``named_children()`` against a parameter's default, and a holder keeping the model
HELPERS = """\
import torch.nn as nn


def set_parameter_requires_grad(model, feature_extracting=True, n_layer=6):
    if feature_extracting:
        ct = 0
        for name, child in model.named_children():
            ct += 1
            if ct < n_layer:
                for name2, params in child.named_parameters():
                    params.requires_grad = False


class MyResnet(nn.Module):
    def __init__(self, my_pretrained_model):
        super().__init__()
        self.pretrained = my_pretrained_model
        self.pretrained.fc = nn.Linear(self.pretrained.fc.in_features, 20)

    def forward(self, x):
        return self.pretrained(x)
"""

BIRDS = """\
import torch
import torch.nn as nn
import torchvision.models as models
from model import MyResnet, set_parameter_requires_grad

pretrained_resnet = models.resnet50(weights=None)
set_parameter_requires_grad(pretrained_resnet{passed})
model = MyResnet(my_pretrained_model=pretrained_resnet)
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)


def train(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_helper_of_another_module_freezing_the_first_children_by_a_counter(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": HELPERS, "main.py": BIRDS.format(passed="")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert ("`set_parameter_requires_grad` (model.py:7) freezes its first 5 child modules here as `pretrained_resnet`"
            in finding.message)


@pytest.mark.parametrize("passed", [", feature_extracting=False", ", n_layer=1"])
def test_the_helper_asked_not_to_freeze_or_to_freeze_too_little(tmp_path: Path, passed: str) -> None:
    write_project(tmp_path, {"model.py": HELPERS, "main.py": BIRDS.format(passed=passed)})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []
