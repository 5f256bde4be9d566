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
