"""GL406 on synthetic held-out round 48s (``bench/heldout/round48s``: projects fresh evaluators
wrote in the style of public training code after reading real repositories of each kind), in
our own words.

- A detector whose ``set_backbone_trainable(flag)`` method sets ``p.requires_grad = flag``:
  ``net.set_backbone_trainable(False)`` freezes, and ``set_backbone_trainable(True)`` at epoch
  5 of the loop makes it trainable again (a short warm-up, not reported), where the class is
  imported from the project's ``model.py``.
- A model registry in a package's ``__init__``: ``get_model(name, ...)`` returns
  ``_ARCHS[name](...)``, whose entry ``build_net`` builds the model and calls its
  ``freeze_backbone()`` method under its own flag.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

DETECTOR = """\
import torch.nn as nn
from torchvision import models


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(*list(models.resnet18(weights="DEFAULT").children())[:-2])
        self.head = nn.Conv2d(512, 80, 1)

    def set_backbone_trainable(self, flag):
        for p in self.backbone.parameters():
            p.requires_grad = flag

    def forward(self, x):
        return self.head(self.backbone(x))
"""

WARMUP = """\
import torch
from model import Detector


def run_epoch(net, loader, optimizer):
    net.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(net(x), y).backward()
        optimizer.step()


def main(loader):
    net = Detector()
    net.set_backbone_trainable(False)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    for epoch in range(70):
        {unfreeze}
        run_epoch(net, loader, optimizer)
"""


def test_a_flag_method_called_with_true_ends_the_freeze_it_made(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": DETECTOR, "train.py": WARMUP.format(
        unfreeze="if epoch == 5:\n            net.set_backbone_trainable(True)")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
    write_project(tmp_path, {"train.py": WARMUP.format(unfreeze="pass")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 15)


REGISTRY = """\
from .classifier import build_net

_ARCHS = {
    "net_r50": build_net,
}


def get_model(name, num_classes, freeze_backbone=True):
    return _ARCHS[name](num_classes=num_classes, freeze_backbone=freeze_backbone)
"""

CLASSIFIER = """\
import torch.nn as nn
from torchvision import models


class Net(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.backbone = models.resnet50(weights="DEFAULT")
        self.backbone.fc = nn.Identity()
        self.head = nn.Linear(2048, num_classes)

    def freeze_backbone(self):
        for param in self.backbone.parameters():
            param.requires_grad = False

    def forward(self, x):
        return self.head(self.backbone(x))


def build_net(num_classes, freeze_backbone=True):
    model = Net(num_classes)
    if freeze_backbone:
        model.freeze_backbone()
    return model
"""

SCRIPT = """\
import torch
from models import get_model

model = get_model("net_r50", num_classes=102, freeze_backbone={freeze})
optimizer = torch.optim.AdamW(model.head.parameters(), lr=1e-3)


def train_one_epoch(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_factory_called_through_a_registry_in_a_package(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/__init__.py": REGISTRY, "models/classifier.py": CLASSIFIER,
                             "train.py": SCRIPT.format(freeze="True")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 4)
    assert "`get_model` (models/__init__.py:9, through `build_net` at models/classifier.py:23)" in finding.message


NET = """\
import torch.nn as nn
from torchvision import models


class EmotionNet(nn.Module):
    def __init__(self, num_classes=7, freeze_backbone=False):
        super().__init__()
        self.backbone = models.mobilenet_v2(weights="DEFAULT").features
        if freeze_backbone:
            for p in self.backbone.parameters():
                p.requires_grad = False
        self.head = nn.Linear(1280, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x).mean((2, 3)))
"""

LIT = """\
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from model import EmotionNet


class EmotionClassifier(pl.LightningModule):
    def __init__(self, num_classes=7, freeze_backbone={default}):
        super().__init__()
        self.net = EmotionNet(num_classes=num_classes, freeze_backbone=freeze_backbone)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(filter(lambda p: p.requires_grad, self.parameters()), lr=3e-4)
"""


def test_a_lightning_modules_own_flag_handed_to_the_network_it_builds(tmp_path: Path) -> None:
    # the module's default decides, as nothing in its file builds it with another value
    write_project(tmp_path, {"model.py": NET, "lit.py": LIT.format(default="True")})
    [finding] = lint_in_process(tmp_path / "lit.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 10)
    assert "`self.net.backbone` has BatchNorm layers and `EmotionNet` (model.py:10)" in finding.message
    write_project(tmp_path, {"lit.py": LIT.format(default="False")})
    assert lint_in_process(tmp_path / "lit.py", "GL406") == []


PROBE = """\
import torch
import torch.nn as nn
import torchvision


def build_probe(num_classes, arch="{arch}"):
    model = getattr(torchvision.models, arch)(weights="DEFAULT")
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


model = build_probe(102)
optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.1)


def fit(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_an_architecture_picked_by_getattr_with_the_parameters_default(tmp_path: Path) -> None:
    # a linear probe's factory: ``getattr(torchvision.models, arch)`` with ``arch="resnet50"``
    path = tmp_path / "probe.py"
    path.write_text(PROBE.format(arch="resnet50"))
    [finding] = lint_in_process(path, "GL406")
    assert (finding.code, finding.line) == ("GL406", 14)
    path.write_text(PROBE.format(arch="alexnet"))  # no BatchNorm (and no ``fc``: it would not train)
    assert lint_in_process(path, "GL406") == []


EVALNET = """\
import torch.nn as nn
from torchvision.models import resnet18


def build_encoder():
    encoder = resnet18(weights=None)
    encoder.fc = nn.Identity()
    return encoder


class EvalNet(nn.Module):
    def __init__(self, encoder, num_classes=10):
        super().__init__()
        self.encoder = encoder
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x):
        return self.linear(self.encoder(x))
"""

LINEAR_EVAL = """\
import torch
from model import EvalNet, build_encoder

net = EvalNet(build_encoder())
optimizer = torch.optim.Adam(net.{optimised}.parameters(), lr=3e-4)


def fit(loader):
    net.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
"""


def test_a_holder_of_a_handed_backbone_with_only_its_head_optimised(tmp_path: Path) -> None:
    # a self-supervised encoder's linear evaluation: EvalNet keeps the encoder it is handed
    write_project(tmp_path, {"model.py": EVALNET, "eval.py": LINEAR_EVAL.format(optimised="linear")})
    [finding] = lint_in_process(tmp_path / "eval.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 5)
    assert "`net` has BatchNorm layers and only `net.linear` is optimised here" in finding.message
    write_project(tmp_path, {"eval.py": LINEAR_EVAL.format(optimised="encoder")})
    assert lint_in_process(tmp_path / "eval.py", "GL406") == []  # (the head left out holds no BatchNorm)


FACTORY = """\
import torch.nn as nn
from torchvision import models

TRAINABLE_BLOCKS = ("layer4", "fc")


def freeze_except(model, trainable=TRAINABLE_BLOCKS):
    for name, param in model.named_parameters():
        param.requires_grad = name.split(".")[0] in trainable
    return model


def get_model(num_classes):
    model = models.resnet50(weights="DEFAULT")
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return {returned}
"""

TRAIN = """\
import torch
from model_factory import get_model

model = get_model(38)
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad])


def fit(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_factory_returning_what_a_freeze_by_name_helper_hands_back(tmp_path: Path) -> None:
    # ``param.requires_grad = name.split(".")[0] in trainable``, the tuple a module constant
    write_project(tmp_path, {"model_factory.py": FACTORY.format(returned="freeze_except(model)"), "train.py": TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 4)
    assert "`get_model` (model_factory.py:16)" in finding.message
    write_project(tmp_path, {"model_factory.py": FACTORY.format(returned="model")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


PREFIXES = """\
import torch
from torchvision import models

FROZEN_PREFIXES = ("features.conv0", "features.norm0", "features.denseblock1", "features.transition1")

model = models.densenet121(weights="DEFAULT")
for name, param in model.named_parameters():
    if name.startswith({prefixes}):
        param.requires_grad = False
optimizer = torch.optim.Adam(p for p in model.parameters() if p.requires_grad)


def fit(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
        optimizer.step()
"""


def test_a_freeze_by_a_module_tuple_of_name_prefixes(tmp_path: Path) -> None:
    # a DenseNet's stem and first block frozen by prefix: their BatchNorm drifts
    path = tmp_path / "train.py"
    path.write_text(PREFIXES.format(prefixes="FROZEN_PREFIXES"))
    [finding] = lint_in_process(path, "GL406")
    assert (finding.code, finding.line) == ("GL406", 9)
    path.write_text(PREFIXES.format(prefixes='("classifier",)'))  # only the head frozen: no BatchNorm there
    assert lint_in_process(path, "GL406") == []


LOOP = """\
import torch
from torch import nn
from torchvision import models

backbone = models.resnet18(weights="DEFAULT")
backbone.fc = nn.Identity()
for p in backbone.parameters():
    p.requires_grad = False
head = nn.Linear(512, 10)
optimizer = torch.optim.SGD(head.parameters(), lr=0.1)


def fit(loader):
    for net in (backbone, head):
        net.train()
{after}    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(head(backbone(x)), y).backward()
        optimizer.step()
"""


def test_train_called_through_a_loop_over_the_networks(tmp_path: Path) -> None:
    # a domain-adaptation script's ``for net in (source_net, target_net): net.train()``
    path = tmp_path / "train.py"
    path.write_text(LOOP.format(after=""))
    [finding] = lint_in_process(path, "GL406")
    assert (finding.code, finding.line) == ("GL406", 8)
    assert "`net.train()` on line 15 (`net` is `backbone` there)" in finding.message
    path.write_text(LOOP.format(after="    backbone.eval()\n"))
    assert lint_in_process(path, "GL406") == []
