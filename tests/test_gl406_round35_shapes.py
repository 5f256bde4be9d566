"""GL406 shapes from held-out round 35 (real code, ``bench/heldout/round35``):

- ``for name, child in model.named_children(): if name in ["classifier"]: <unfreeze>
  else: <freeze child>`` in a factory of another module (vidyashankar-shanmugam);
- a captioning trainer (a plain class) whose ``init_model`` builds an encoder that freezes
  its ResNet's first children, keeps it as ``self.encoder`` and whose own ``train(self)``
  loop calls ``self.encoder.train()`` (and ``.eval()`` for validation): that ``train`` is
  the training loop, not an override keeping BatchNorm in eval (khs0415p);
- ``model_ref, head, n = ARCHITECTURES[arch]`` from ``dict(vgg19=(models.vgg19_bn, ...))``,
  then ``model = model_ref(pretrained=True)`` frozen whole in a factory (benvenutto).
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

FACTORY = """\
import torch
import torchvision


def model_init():
    model = torchvision.models.efficientnet_b0(weights=None)
    model.classifier[1] = torch.nn.Linear(1280, 101)
    for name, child in model.named_children():
        if name in {kept}:
            for param in child.parameters():
                param.requires_grad = True
        else:
            for param in child.parameters():
                param.requires_grad = False
    return model


def train_model(model, loader, optimizer):
    for phase in ["train", "val"]:
        if phase == "train":
            model.train()
        else:
            model.eval()
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""

MAIN = """\
import torch
from model import model_init, train_model


def main(loader):
    model = model_init()
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
    train_model(model, loader, optimizer)
"""


def test_children_frozen_in_the_else_arm_of_a_name_test(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": FACTORY.format(kept='["classifier"]'), "main.py": MAIN})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert finding.code == "GL406" and finding.line == 6
    assert "`model_init` (model.py:8) returns it with its child modules other than `classifier` frozen" in finding.message


def test_the_else_arm_freezing_only_the_head_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": FACTORY.format(kept='["features", "avgpool"]'), "main.py": MAIN})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


ENCODER = """\
import torch.nn as nn
from torchvision.models import resnet50


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.resnet = nn.Sequential(*list(resnet50(weights=None).children())[:-2])
        self.fine_tune()

    def fine_tune(self, fine_tune=True):
        for p in self.resnet.parameters():
            p.requires_grad = False
        for c in list(self.resnet.children())[5:]:
            for p in c.parameters():
                p.requires_grad = fine_tune

    def forward(self, images):
        return self.resnet(images)
"""

TRAINER = """\
import torch
import torch.nn as nn
from models import Encoder


class {header}:
    def __init__(self, loader):
        self.loader = loader
        self.init_model()

    def init_model(self):
        encoder = Encoder()
        self.encoder = encoder
        self.decoder = nn.Linear(2048, 10)
        self.optimizer = torch.optim.Adam(self.decoder.parameters())

    def train(self):
        for phase in ["train", "valid"]:
            if phase == "train":
                self.encoder.train()
                for images, y in self.loader:
                    self.optimizer.zero_grad()
                    loss = nn.functional.cross_entropy(self.decoder(self.encoder(images).mean((2, 3))), y)
                    loss.backward()
                    self.optimizer.step()
            else:
                self.encoder.eval()
"""


def test_a_trainer_method_keeping_the_frozen_encoder_as_an_attribute(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": ENCODER, "trainer.py": TRAINER.format(header="BaseTrainer")})
    [finding] = lint_in_process(tmp_path / "trainer.py", "GL406")
    assert finding.code == "GL406" and finding.line == 12
    assert "`self.encoder.resnet` has BatchNorm layers" in finding.message
    assert "which `self.encoder` holds (line 13)" in finding.message
    assert "`self.encoder.train()` on line 20" in finding.message


def test_a_module_whose_train_override_keeps_the_encoder_in_eval_is_not_reported(tmp_path: Path) -> None:
    # the same ``train(self)`` in an nn.Module is an override of Module.train: it may keep BatchNorm in eval
    write_project(tmp_path, {"models.py": ENCODER, "trainer.py": TRAINER.format(header="BaseTrainer(nn.Module)")})
    assert lint_in_process(tmp_path / "trainer.py", "GL406") == []


def test_a_mixin_overriding_module_train_still_keeps_batchnorm_in_eval(tmp_path: Path) -> None:
    # a class with no base whose train(mode) calls super().train(mode) is a Module.train override (a mixin)
    mixin = ("class KeepNormsFrozen:\n    def train(self, mode=True):\n        super().train(mode)\n"
             "        for m in self.modules():\n            if isinstance(m, nn.BatchNorm2d):\n"
             "                m.eval()\n        return self\n\n\n")
    trainer = TRAINER.format(header="BaseTrainer").replace("class BaseTrainer:", mixin + "class BaseTrainer:")
    write_project(tmp_path, {"models.py": ENCODER, "trainer.py": trainer})
    assert lint_in_process(tmp_path / "trainer.py", "GL406") == []


TABLED = """\
import torch.nn as nn
import torchvision.models as models

ARCHITECTURES = dict(vgg19=({first}, "classifier", 25088),
                     alexnet=(models.alexnet, "classifier", 9216))


def make_model(arch, n_out):
    model_ref, head_name, n_in = ARCHITECTURES[arch]
    model = model_ref(pretrained=True)
    for param in model.parameters():
        param.requires_grad = False
    setattr(model, head_name, nn.Linear(n_in, n_out))
    return model


def fit(model, loader, criterion, optimiser):
    model.train()
    for x, y in loader:
        optimiser.zero_grad()
        criterion(model(x), y).backward()
        optimiser.step()
"""

TABLED_MAIN = """\
import torch
import net

model = net.make_model("vgg19", 102)
optimiser = torch.optim.Adam(model.classifier.parameters())
net.fit(model, [], torch.nn.CrossEntropyLoss(), optimiser)
"""


def test_a_constructor_unpacked_from_a_table_of_tuples(tmp_path: Path) -> None:
    write_project(tmp_path, {"net.py": TABLED.format(first="models.vgg19_bn"), "main.py": TABLED_MAIN})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert finding.line == 4 and "`make_model` (net.py:11) returns it with its parameters frozen" in finding.message


def test_a_table_of_constructors_without_batchnorm_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"net.py": TABLED.format(first="models.vgg19"), "main.py": TABLED_MAIN})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []
