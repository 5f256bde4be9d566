"""GL406 on held-out round 55/c (``bench/heldout/round55/c``), in our own words:

- a colourisation U-Net whose ``__init__`` freezes a local ResNet and keeps its stem and
  stages in ``self.encoder = nn.ModuleList(blocks)``, the list filled by ``append`` in a
  loop over the ResNet's children; the script hands the model to a training function of
  another module that compiles it (``cmodel = torch.compile(model)``, in both arms of an
  ``if``) and passes the compiled module to the epoch function that calls ``train()``;
- a Siamese re-identification network freezing "fixed blocks" of a ResNet kept as one
  Sequential (``self.model[1]`` its stem BatchNorm, ``self.model[4]`` its first stage),
  the deeper ones only under ``if fixed_blocks >= 2:`` with ``fixed_blocks = 1``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

COLOUR_MODEL = """\
import torch.nn as nn
import torchvision


class ColourNet(nn.Module):
    def __init__(self):
        super().__init__()
        resnet = torchvision.models.resnet34(weights="DEFAULT")
        for param in resnet.parameters():
            param.requires_grad = False
        blocks = []
        blocks.append(nn.Sequential(*list(resnet.children())[:3]))
        for i, layer in enumerate(resnet.children(), 1):
            if isinstance(layer, nn.Sequential):
                blocks.append(layer)
        self.encoder = nn.ModuleList(blocks)
        self.out = nn.Conv2d(512, 2, 1)

    def forward(self, x):
        for block in self.encoder:
            x = block(x)
        return self.out(x)
"""

COLOUR_TRAIN = """\
import torch


def run_epoch(model, loader, optimizer):
    model.train()
    for x, y in loader:
        loss = (model(x) - y).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def train_model(model, loader, optimizer, epochs, resume=False):
    if resume:
        model.load_state_dict(torch.load("last.pt"))
        cmodel = torch.compile(model)
    else:
        cmodel = torch.compile(model)
    for epoch in range(epochs):
        run_epoch(cmodel, loader, optimizer)
"""

COLOUR_MAIN = """\
import torch
import model
import train

model = model.ColourNet()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
train.train_model(model, [], optimizer, 20)
"""


def test_layers_of_a_frozen_local_kept_in_a_module_list_and_trained_compiled(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": COLOUR_MODEL, "train.py": COLOUR_TRAIN, "main.py": COLOUR_MAIN})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 5)
    assert "`model.encoder` has BatchNorm layers and `ColourNet` (model.py:9) returns it with the layers of `resnet`" in finding.message
    assert "`model.train()` in `train_model` (train.py:20, through `run_epoch` at train.py:5)" in finding.message


def test_a_module_list_that_also_holds_new_layers_is_not_read_as_frozen(tmp_path: Path) -> None:
    # a block of its own in the list: which blocks are frozen is not read, nothing is reported
    source = COLOUR_MODEL.replace("        self.encoder = nn.ModuleList(blocks)",
                                  "        blocks.append(nn.Conv2d(512, 512, 3))\n        self.encoder = nn.ModuleList(blocks)")
    write_project(tmp_path, {"model.py": source, "train.py": COLOUR_TRAIN, "main.py": COLOUR_MAIN})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


SIAMESE = """\
import torch
import torch.nn as nn
import torchvision.models as models


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        resnet = models.resnet50(weights="DEFAULT")
        self.model = nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool, resnet.layer1,
                                   resnet.layer2, resnet.layer3, resnet.layer4, resnet.avgpool)
        fixed_blocks = {blocks}
        for p in self.model[0].parameters(): p.requires_grad = False
        if fixed_blocks >= 2:
            for p in self.model[5].parameters(): p.requires_grad = False
        if fixed_blocks >= 1:
            for p in self.model[{stage}].parameters(): p.requires_grad = False
        self.last_layer = nn.Linear(2048, 512)

    def forward(self, x):
        return self.last_layer(self.model(x).flatten(1))


net = EmbeddingNet()
optimizer = torch.optim.Adam(net.parameters(), lr=0.0005)
for epoch in range(50):
    net.train()
    for x, y in []:
        optimizer.zero_grad()
        loss = (net(x) - y).pow(2).mean()
        loss.backward()
        optimizer.step()
"""


def test_stages_of_a_sequential_frozen_by_index_are_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"siamese.py": SIAMESE.replace("{blocks}", "1").replace("{stage}", "4")})
    [finding] = lint_in_process(tmp_path / "siamese.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 17)
    # (``self.model[5]`` sits under ``if fixed_blocks >= 2:`` with ``fixed_blocks = 1``: never frozen)
    assert finding.message.startswith("`net.model[4]` has BatchNorm layers and its parameters are frozen here, "
                                      "but `net.train()` on line 27 puts it back in train mode")
    assert "model[5]" not in finding.message


def test_a_frozen_index_holding_no_batchnorm_is_quiet(tmp_path: Path) -> None:
    # the stem convolution (index 0) and the ReLU (index 2): no BatchNorm frozen; ``fixed_blocks = 0`` skips the rest
    write_project(tmp_path, {"siamese.py": SIAMESE.replace("{blocks}", "0").replace("{stage}", "2")})
    assert lint_in_process(tmp_path / "siamese.py", "GL406") == []


PAD_MODEL = """\
import torch.nn as nn
import timm


class SpoofNet(nn.Module):
    def __init__(self, pretrained=True):
        super().__init__()
        self.backbone = timm.create_model("tf_efficientnetv2_b0", pretrained=pretrained, num_classes=0)
        if pretrained:
            for param in self.backbone.parameters():
                param.requires_grad = False
        self.classifier = nn.Linear(1280, 1)

    def unfreeze_layers(self, num_layers=None):
        if num_layers is None:
            for param in self.backbone.parameters():
                param.requires_grad = True
        else:
            layers = list(self.backbone.named_parameters())
            for name, param in layers[-num_layers:]:
                param.requires_grad = True

    def forward(self, x):
        return self.classifier(self.backbone(x))
"""

PAD_TRAIN = """\
import torch
from spoof import SpoofNet


def train_model(model, loader, optimizer, num_epochs):
    for epoch in range(num_epochs):
        model.train()
        for x, y in loader:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


model = SpoofNet(pretrained=True)
train_model(model, [], torch.optim.AdamW(model.classifier.parameters()), num_epochs=3)
model.unfreeze_layers({unfreeze})
train_model(model, [], torch.optim.AdamW(model.parameters()), num_epochs=20)
"""


def test_a_class_unfreezing_only_its_last_tensors_where_the_script_asks_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"spoof.py": PAD_MODEL, "train.py": PAD_TRAIN.replace("{unfreeze}", "num_layers=10")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 15)
    assert finding.message.startswith("`model.backbone` has BatchNorm layers and `SpoofNet` (spoof.py:10) returns it "
                                      "with its parameters frozen, but `model.train()` on line 7")


def test_a_class_made_wholly_trainable_after_a_short_warm_up_is_quiet(tmp_path: Path) -> None:
    # (``unfreeze_layers()``: ``num_layers is None``, the whole backbone trains after 3 epochs)
    write_project(tmp_path, {"spoof.py": PAD_MODEL, "train.py": PAD_TRAIN.replace("{unfreeze}", "")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_the_same_class_and_script_in_one_file_read_the_unfreeze_at_its_call(tmp_path: Path) -> None:
    script = PAD_TRAIN.replace("from spoof import SpoofNet\n", "")
    write_project(tmp_path, {"one.py": PAD_MODEL + "\n\n" + script.replace("{unfreeze}", "num_layers=10"),
                             "two.py": PAD_MODEL + "\n\n" + script.replace("{unfreeze}", "")})
    [finding] = lint_in_process(tmp_path / "one.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 11)
    assert finding.message.startswith("`model.backbone` has BatchNorm layers and its parameters are frozen here")
    assert lint_in_process(tmp_path / "two.py", "GL406") == []
