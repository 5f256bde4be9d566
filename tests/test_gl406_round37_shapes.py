"""GL406 shapes from held-out round 37 (real code, ``bench/heldout/round37``): a style-transfer
script that prints the children of a torchvision ResNet-50 (``for name, module in
resnet.named_children(): print(name)``), wraps them in its own module under the same name
(``resnet = Resnet()``), freezes it and optimises an image through it with LBFGS, never
putting it in eval (round 37/c, GunhoChoi). Listing a module's children leaves its mode alone.

And a multimodal model of another module (round 37/a, ramizallahverdiyev): each part of the
imported class is read where the class keeps it, so a frozen transformer text encoder beside
a BatchNorm CNN is no finding, and a frozen CNN is one, at its freeze."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

STYLE = """\
import torch
import torch.nn as nn
import torchvision.models as models
from torch import optim

resnet = models.resnet50(weights=None)
for name, module in resnet.named_children():
    print(name)


class Resnet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer0 = nn.Sequential(*list(resnet.children())[0:4])
        self.layer1 = nn.Sequential(*list(resnet.children())[4:5])

    def forward(self, x):
        out_0 = self.layer0(x)
        return out_0, self.layer1(out_0)


resnet = Resnet()
for param in resnet.parameters():
    param.requires_grad = False{kept}

content = torch.rand(1, 3, 64, 64)
content_target = resnet(content)[1]
generated = content.clone().requires_grad_(True)
optimizer = optim.LBFGS([generated])

iteration = [0]
while iteration[0] < 100:
    def closure():
        optimizer.zero_grad()
        out = resnet(generated)
        loss = nn.MSELoss()(out[1], content_target)
        loss.backward()
        iteration[0] += 1
        return loss

    optimizer.step(closure)
"""


def test_a_frozen_network_renamed_after_listing_its_children(tmp_path: Path) -> None:
    write_project(tmp_path, {"style.py": STYLE.format(kept="")})
    [finding] = lint_in_process(tmp_path / "style.py", "GL406")
    assert finding.line == 24
    assert "`resnet` has BatchNorm layers and its parameters are frozen here, but nothing puts it in eval mode" in finding.message
    assert "running it on line 35 in the training loop" in finding.message


def test_the_network_put_in_eval_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"style.py": STYLE.format(kept="\nresnet.eval()")})
    assert lint_in_process(tmp_path / "style.py", "GL406") == []


MULTIMODAL = {
    "models/vision_encoder.py": """\
import torch.nn as nn
import torchvision


class VisionEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = torchvision.models.resnet18(weights=None)
        self.backbone.fc = nn.Identity()

    def forward(self, x):
        return self.backbone(x)
""",
    "models/text_encoder.py": """\
import torch.nn as nn
from transformers import AutoModel


class TextEncoder(nn.Module):
    def __init__(self, name="distilbert-base-uncased"):
        super().__init__()
        self.encoder = AutoModel.from_pretrained(name)
        self.proj = nn.Linear(768, 256)

    def forward(self, ids, mask):
        return self.proj(self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state.mean(1))
""",
    "models/fusion.py": """\
import torch
import torch.nn as nn
from models.text_encoder import TextEncoder
from models.vision_encoder import VisionEncoder


class FusionModel(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.vision = VisionEncoder()
        self.text = TextEncoder()
        self.head = nn.Linear(512 + 256, num_classes)

    def forward(self, image, ids, mask):
        return self.head(torch.cat([self.vision(image), self.text(ids, mask)], dim=1))
""",
    "train.py": """\
import torch
from models.fusion import FusionModel


def main(loader, epochs=10):
    model = FusionModel(num_classes=5)
    for p in model.{frozen}.parameters():
        p.requires_grad = False
    optimizer = torch.optim.AdamW(filter(lambda p: p.requires_grad, model.parameters()))
    for epoch in range(epochs):
        model.train()
        for image, ids, mask, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(image, ids, mask), y).backward()
            optimizer.step()
""",
}


def test_a_frozen_cnn_of_an_imported_multimodal_model(tmp_path: Path) -> None:
    write_project(tmp_path, {**MULTIMODAL, "train.py": MULTIMODAL["train.py"].replace("{frozen}", "vision")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 8 and "`model.vision` has BatchNorm layers and its parameters are frozen here" in finding.message


def test_a_frozen_text_encoder_of_an_imported_multimodal_model_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {**MULTIMODAL, "train.py": MULTIMODAL["train.py"].replace("{frozen}", "text")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


# held-out round 19 (bubbliiiing's PSPNet), kept by the reading above: the backbone class sits in
# a module that builds BatchNorm elsewhere, and gets its own through a function of another
# module spelling the layer ``BatchNorm2d = nn.BatchNorm2d``: not known to hold none
SEGMENTATION = {
    "nets/mobilenetv2.py": """\\
import torch.nn as nn

BatchNorm2d = nn.BatchNorm2d


def mobilenetv2(pretrained=False):
    return nn.Sequential(nn.Conv2d(3, 32, 3), BatchNorm2d(32), nn.ReLU6())
""",
    "nets/pspnet.py": """\\
import torch.nn as nn
from nets.mobilenetv2 import mobilenetv2


class MobileNetV2(nn.Module):
    def __init__(self, pretrained=True):
        super().__init__()
        self.features = mobilenetv2(pretrained)

    def forward(self, x):
        return self.features(x)


class PSPNet(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.backbone = MobileNetV2()
        self.head = nn.Sequential(nn.Conv2d(32, 32, 3), nn.BatchNorm2d(32), nn.Conv2d(32, num_classes, 1))

    def forward(self, x):
        return self.head(self.backbone(x))
""",
    "train.py": """\\
import torch
from nets.pspnet import PSPNet

model = PSPNet(num_classes=21)
for param in model.backbone.parameters():
    param.requires_grad = False
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
for epoch in range(50):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
""",
}


def test_a_backbone_class_of_a_module_building_batchnorm_elsewhere_is_still_read_as_holding_it(tmp_path: Path) -> None:
    write_project(tmp_path, SEGMENTATION)
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 7 and "`model.backbone` has BatchNorm layers" in finding.message
