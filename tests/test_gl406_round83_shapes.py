"""GL406 shapes of held-out round 83 (``bench/heldout/round83``), in our own words: a
captioning experiment whose model comes from a factory of another module choosing between
two classes that freeze a ResNet; its test pass calls the model's own ``generate`` method
under ``torch.no_grad()``, a method and not a part of the model."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ARCHITECTURES = """\
import torch
import torch.nn as nn
import torchvision


class CaptionerA(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.resnet = torchvision.models.resnet50(weights="DEFAULT")
        for param in self.resnet.parameters():
            param.requires_grad = False
        self.decoder = nn.LSTM(1000, 512, batch_first=True)
        self.out = nn.Linear(512, vocab_size)

    def forward(self, images, captions):
        return self.out(self.decoder(self.resnet(images).unsqueeze(1))[0])

    def {method}(self, images, max_length=20):
        return self.forward(images, None).argmax(-1)


class CaptionerB(CaptionerA):
    pass
"""

FACTORY = """\
from architectures import CaptionerA, CaptionerB


def get_model(config, vocab):
    if config["architecture"] == "a":
        model = CaptionerA(len(vocab))
    else:
        model = CaptionerB(len(vocab))
    return model
"""

EXPERIMENT = """\
import torch
import torch.nn as nn
from model_factory import get_model


class Experiment(object):
    def __init__(self, config, vocab, loaders):
        self.__train_loader, self.__test_loader = loaders
        self.__model = get_model(config, vocab)
        self.__criterion = nn.CrossEntropyLoss()
        self.__optimizer = torch.optim.Adam(params=filter(lambda p: p.requires_grad, self.__model.parameters()))

    def __train(self):
        self.__model.train()
        losses = []
        for images, captions in self.__train_loader:
            self.__optimizer.zero_grad()
            outputs = self.__model.forward(images, captions)
            loss = self.__criterion(outputs.flatten(0, 1), captions.flatten())
            loss.backward()
            self.__optimizer.step()
            losses.append(loss.item())
        return losses

    def test(self):
        self.__model.eval()
        with torch.no_grad():
            for images, captions in self.__test_loader:
                outputs = self.__model.forward(images, captions)
                loss = self.__criterion(outputs.flatten(0, 1), captions.flatten())
                words = self.__model.{method}(images, max_length=20).tolist()
"""


def _project(tmp_path: Path, method: str) -> Path:
    write_project(tmp_path, {"architectures.py": ARCHITECTURES.format(method=method), "model_factory.py": FACTORY,
                             "experiment.py": EXPERIMENT.format(method=method)})
    return tmp_path / "experiment.py"


def test_a_method_of_the_factory_built_model_run_under_no_grad_is_no_frozen_part(tmp_path: Path) -> None:
    [finding] = lint_in_process(_project(tmp_path, "generate_final"), "GL406")
    assert (finding.code, finding.line) == ("GL406", 9)
    assert finding.message.startswith("`self.__model.resnet` has BatchNorm layers and `get_model` (model_factory.py:6, through `CaptionerA`")
