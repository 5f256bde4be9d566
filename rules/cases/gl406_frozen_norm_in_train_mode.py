"""More cases of GL406 (gl406_frozen_norm_in_train_mode.py keeps a representative set): run by the
tests with the module's own, see rules/cases/__init__.py."""

from __future__ import annotations

from gradlint.registry import Invalid, Valid
from gradlint.rules.gl406_frozen_norm_in_train_mode import _LOOP  # the loop the rule's own cases end with

VALID = [
    Valid(  # LayerNorm only: train mode changes nothing in the frozen part
        """
import timm
import torch
from torch import nn

model = timm.create_model("vit_small_patch16_224", pretrained=True)
model.blocks.requires_grad_(False)
optimizer = torch.optim.AdamW(model.head.parameters())
""" + _LOOP
    ),
    Valid(  # frozen for a few epochs, then unfrozen: a warm-up of the head
        """
import torch
from torch import nn
from torchvision import models

model = models.resnet18()
model.layer1.requires_grad_(False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
""" + _LOOP + """
def unfreeze():
    model.layer1.requires_grad_(True)
"""
    ),
    Valid(  # two functions, two local models: the frozen one is of unknown make, the trained one is not frozen
        """
import timm
import torch

def check_freeze(name):
    model = timm.create_model(name)
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())

def check_train_step():
    model = timm.create_model("resnet18")
    model.train()
    model(torch.randn(2, 3, 32, 32)).sum().backward()
"""
    ),
    Valid(  # a backbone from another file: unknown make, nothing said
        """
import torch
from torch import nn
from mypackage import build_backbone

model = build_backbone()
for p in model.parameters():
    p.requires_grad = False
optimizer = torch.optim.SGD(model.head.parameters(), lr=0.1)
""" + _LOOP
    ),
    Valid(  # BatchNorm layers switched to eval by a helper after train()
        """
import torch
from torch import nn
from torchvision import models

def set_bn_eval(m):
    if isinstance(m, nn.BatchNorm2d):
        m.eval()

model = models.resnet18()
model.layer1.requires_grad_(False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

def train_epoch(loader):
    model.train()
    model.apply(set_bn_eval)
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""
    ),
    Valid(  # a no_grad evaluation of the trained model is not a freeze
        """
import torch
from torch import nn

model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.LazyLinear(10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
""" + _LOOP + """
def evaluate(loader):
    model.eval()
    with torch.no_grad():
        return [model(x) for x, _ in loader]
"""
    ),
]

INVALID = [
    Invalid(  # a module class of the file, frozen in __init__, its instance trained in train mode
        """
import torch
from torch import nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.norm = nn.BatchNorm2d(8)

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.encoder.requires_grad_(False)
        self.head = nn.LazyLinear(10)

model = Classifier()
optimizer = torch.optim.Adam(model.head.parameters())
""" + _LOOP,
        line=15,
    ),
    Invalid(  # only the classifier is optimised; the whole net is trained in train mode (no safe edit)
        """
import torch
from torch import nn
import torchvision

model = torchvision.models.mobilenet_v2(weights="DEFAULT")
model.classifier = nn.Linear(1280, 4)
optimizer = torch.optim.Adam(model.classifier.parameters(), lr=1e-3)
""" + _LOOP,
        line=8,
    ),
    Invalid(  # the encoder class is in a project module; train mode is set in a helper given the model
        """
import torch
from torch import nn
from encoders import ConvEncoder

class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = ConvEncoder()
        self.fc = nn.Linear(16, 10)

def run_epoch(net, loader, optimizer=None):
    net.train() if optimizer is not None else net.eval()
    for x, y in loader:
        loss = nn.functional.cross_entropy(net(x), y)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

model = Probe()
model.encoder.requires_grad_(False)
optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.1)
for epoch in range(10):
    run_epoch(model, train_loader, optimizer)
    run_epoch(model, val_loader)
""",
        line=22,
        files=(("encoders.py", "from torch import nn\nclass ConvEncoder(nn.Module):\n    def __init__(self):\n"
                "        super().__init__()\n        self.conv = nn.Conv2d(3, 16, 3)\n        self.bn = nn.BatchNorm2d(16)\n"),),
    ),
    Invalid(  # frozen by name: everything but the head, skipped with continue
        """
import torch
from torch import nn
from torchvision import models

model = models.resnet50(weights="DEFAULT")
for name, param in model.named_parameters():
    if name.split(".")[0] in ("fc",):
        continue
    param.requires_grad = False
model.fc = nn.Linear(2048, 10)
optimizer = torch.optim.Adam(model.fc.parameters(), lr=1e-3)
""" + _LOOP,
        line=10,
    ),
    Invalid(  # the flag is the test itself: only parameters named like the classifier train
        """
import torch
from torch import nn
from torchvision import models

model = models.efficientnet_b0(weights="DEFAULT")
for n, p in model.named_parameters():
    p.requires_grad = any(key in n for key in ["classifier"])
optimizer = torch.optim.Adam(model.classifier.parameters(), lr=1e-3)
""" + _LOOP,
        line=8,
    ),
    Invalid(  # every parameter made trainable first, then the backbone frozen behind a flag (held-out round 5)
        """
import torch
from torch import nn
from torchvision import models

model = models.segmentation.deeplabv3_resnet50(weights=None, num_classes=3)
for p in model.parameters():
    p.requires_grad = True
if args.freeze_backbone:
    for p in model.backbone.parameters():
        p.requires_grad = False
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
""" + _LOOP.replace("model(x)", "model(x)['out']"),
        line=11,
    ),
    Invalid(  # the model is handed to a training function whose parameter has the same name (held-out round 5)
        """
import torch
from torch import nn
from torchvision import models


def main():
    model = models.resnet18(weights="DEFAULT")
    model.requires_grad_(False)
    model.fc = nn.Linear(512, 4)
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)
    train_model(model, optimizer, [])


def train_model(model, optimizer, loader):
    for epoch in range(3):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
""",
        line=9,
    ),
    Invalid(  # features extracted under no_grad by a backbone nobody puts in eval mode (held-out round 5)
        """
import torch
from torch import nn
from torchvision import models

backbone = models.resnet18(weights="DEFAULT")
backbone.fc = nn.Identity()
print(backbone)
head = nn.Linear(512, 10)
optimizer = torch.optim.Adam(head.parameters(), lr=1e-3)
for x, y in []:
    with torch.no_grad():
        feats = backbone(x)
    optimizer.zero_grad()
    nn.functional.cross_entropy(head(feats), y).backward()
    optimizer.step()
""",
        line=13,
    ),
    Invalid(  # a torchvision model from torch.hub, its features frozen (held-out round 5)
        """
import torch
from torch import nn

model = torch.hub.load("pytorch/vision:v0.10.0", "mobilenet_v2", weights=None)
for p in model.features.parameters():
    p.requires_grad = False
model.classifier[1] = nn.Linear(1280, 5)
optimizer = torch.optim.SGD(model.classifier.parameters(), lr=0.01)
""" + _LOOP,
        line=7,
    ),
    Invalid(  # a LightningModule's frozen backbone: trainer.fit(model) calls model.train() every epoch (held-out round 7)
        """
import pytorch_lightning as pl
import torch
from torch import nn
from torchvision import models


class Probe(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.encoder = models.resnet18(weights=None)
        self.encoder.requires_grad_(False)
        self.head = nn.Linear(1000, 10)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self.head(self.encoder(x)), y)


probe = Probe()
pl.Trainer(max_epochs=5).fit(probe, [])
""",
        line=12,
    ),
    Invalid(  # a backbone cut from a ResNet's children, sliced again, frozen and never put in eval (held-out round 5)
        """
import torch
from torch import nn
from torchvision.models import resnet50


def main(loader):
    resnet = resnet50()
    backbone = nn.Sequential(*list(resnet.children())[:-1])
    backbone = backbone[:-1]
    for p in backbone.parameters():
        p.requires_grad = False
    head = nn.Linear(2048, 10)
    optimizer = torch.optim.Adam(head.parameters())
    for x, y in loader:
        feats = backbone(x).mean((2, 3))
        optimizer.zero_grad()
        nn.functional.cross_entropy(head(feats), y).backward()
        optimizer.step()
""",
        line=12,
    ),
]
