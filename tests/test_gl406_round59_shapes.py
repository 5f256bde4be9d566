"""GL406 on held-out round 59 (``bench/heldout/round59``), in our own words: a freezing
helper whose freeze a configuration dict decides (``if not config["lr"]["freeze_backbone"]:
... else: <freeze>``, a YOLOv3 port) or a freeze mode an option picks (``fix_model(model,
args.fixmode)`` with ``--fixmode`` defaulting to no freeze), and a LightningModule whose
``configure_optimizers`` builds an optimiser class of its own (``LARS(self.CLR.parameters())``)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

CONFIGURED_HELPER = """\
import torch
import torch.nn as nn
from torchvision import models

CONFIG = {"lr": {"freeze_backbone": False, "backbone_lr": 1e-3, "other_lr": 1e-2}}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = models.resnet18(weights="DEFAULT")
        self.head = nn.Linear(1000, 20)

    def forward(self, x):
        return self.head(self.backbone(x))


def get_optimizer(config, net):
    if not config["lr"]["freeze_backbone"]:
        params = [{"params": net.head.parameters()}, {"params": net.backbone.parameters(), "lr": config["lr"]["backbone_lr"]}]
    else:
        for p in net.backbone.parameters():
            p.requires_grad = False
        params = [{"params": net.head.parameters()}]
    return torch.optim.Adam(params, lr=config["lr"]["other_lr"])


net = Net()
optimizer = get_optimizer(CONFIG, net)
for epoch in range(100):
    net.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
"""


def test_a_helper_freeze_a_configuration_dict_decides_is_not_read_as_made(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": CONFIGURED_HELPER})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


FIX_MODE = """\
import argparse
import torch
import torch.nn as nn
from torchvision import models

parser = argparse.ArgumentParser()
parser.add_argument("--fixmode", default="f1", type=str)
args = parser.parse_args()


def fix_model(model, fixmode):
    if fixmode == "f1":
        pass
    elif fixmode == "f2":
        for name, param in model.named_parameters():
            if not ("layer4" in name or "fc" in name):
                param.requires_grad = False


model = models.resnet18(weights="DEFAULT")
fix_model(model, {mode})
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
for epoch in range(100):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_helper_freeze_mode_the_option_default_does_not_pick_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": FIX_MODE.format(mode="args.fixmode")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_the_freeze_mode_written_at_the_call_is_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": FIX_MODE.format(mode='"f2"')})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 21 and "`fix_model`" in finding.message


LARS_MODULE = """\
import torch
import torch.nn as nn
import pytorch_lightning as pl
from torchvision import models

from optimizers import LARS


class CLR(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = models.resnet18(weights=None)
        self.projector = nn.Linear(1000, 128)

    def forward(self, x):
        return self.projector(self.encoder(x))


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = nn.Linear(128, 10)

    def configure_optimizers(self):
        return torch.optim.Adam(self.model.parameters())


class SimCLR(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.CLR = CLR()

    def training_step(self, batch, batch_idx):
        self.CLR.train()
        x_i, x_j = batch
        return (self.CLR(x_i) - self.CLR(x_j)).pow(2).mean()

    def visualization(self, loader):
        self.CLR.eval()
        for x in loader:
            with torch.no_grad():
                h = self.CLR.encoder(x)
                z = self.CLR.projector(h)
        return z

    def configure_optimizers(self):
        optimizer_encoder = LARS(self.CLR.parameters(), lr=0.3, weight_decay=0.0)
        return optimizer_encoder
"""


def test_an_optimiser_class_of_the_project_in_configure_optimizers_trains_its_module(tmp_path: Path) -> None:
    write_project(tmp_path, {"simclr.py": LARS_MODULE, "optimizers.py": "import torch\n\n\nclass LARS(torch.optim.Optimizer):\n    pass\n"})
    assert lint_in_process(tmp_path / "simclr.py", "GL406") == []


SSD = """\
import torch
import torch.nn as nn
from torchvision import models

from ssd_config import vgg_config, mobilenet_config


class MultiboxLoss(nn.Module):
    def __init__(self, priors, iou_threshold):
        super().__init__()
        self.priors = priors
        self.iou_threshold = iou_threshold

    def forward(self, confidence, labels):
        return nn.functional.cross_entropy(confidence, labels)


def select_net(net_name):
    if net_name == "vgg16-ssd":
        create_net = lambda n: models.vgg16_bn(num_classes=n)
        config = vgg_config
    else:
        create_net = lambda n: models.mobilenet_v2(num_classes=n)
        config = mobilenet_config
    return create_net, config


def test(loader, net, criterion):
    net.eval()
    for images, labels in loader:
        with torch.no_grad():
            loss = criterion(net(images), labels)
    return loss


create_net, config = select_net("vgg16-ssd")
net = create_net(21)
criterion = MultiboxLoss(config.priors, iou_threshold=0.5)
optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
for epoch in range(10):
    net.train()
    for images, labels in []:
        optimizer.zero_grad()
        criterion(net(images), labels).backward()
        optimizer.step()
    test([], net, criterion)
"""


def test_a_setting_a_function_returns_beside_a_builder_is_no_network(tmp_path: Path) -> None:
    # (round 59/b: ``create_net, config = select_net(...)`` made ``config``, and the loss keeping
    # ``config.priors``, a network with BatchNorm run under no_grad)
    write_project(tmp_path, {"train_ssd.py": SSD, "ssd_config.py": "priors = None\nvgg_config = None\nmobilenet_config = None\n"})
    assert lint_in_process(tmp_path / "train_ssd.py", "GL406") == []
