"""GL406 shapes from held-out round 43 (real code, ``bench/heldout/round43``), in our own words.

- 43/a 4uiiurz1: ``--freeze_bn`` (default True) freezes the weight and bias of every
  BatchNorm layer; the model then trains in train mode, so their statistics still move.
- 43/a Kaishoo: ``get_model(name)`` returns ``model_mapping[name](...)``, a table of
  classes of which two freeze their torchvision backbone in ``__init__``: each name is its
  own configuration, and a name picking another class freezes nothing.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project


FREEZE_BN = """\
import argparse

import timm
import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--freeze_bn", default=True, type=bool)
args = parser.parse_args()

model = timm.create_model("resnet50", pretrained=True, num_classes=5)
if args.freeze_bn:
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.requires_grad = False
            m.bias.requires_grad = False
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
for epoch in range(10):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_freezing_every_batchnorm_layers_weight_and_bias_leaves_its_statistics_moving(tmp_path: Path) -> None:
    # (43/a 4uiiurz1: ``--freeze_bn`` freezes the affine parameters only, the model trains in train mode)
    write_project(tmp_path, {"train.py": FREEZE_BN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 15 and "the weight and bias of its BatchNorm layers are frozen here" in finding.message


def test_the_same_loop_putting_them_in_eval_mode_once_is_undone_by_model_train(tmp_path: Path) -> None:
    # (the eval before the epoch loop is undone by its first model.train(): round 66/c's plant diagnostics)
    kept = FREEZE_BN.replace("            m.bias.requires_grad = False\n",
                             "            m.bias.requires_grad = False\n            m.eval()\n")
    write_project(tmp_path, {"train.py": kept})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")  # (at the m.eval() the epochs undo)
    assert finding.line == 17 and "(put in eval mode once, before the epochs)" in finding.message


def test_the_same_loop_run_after_model_train_in_each_epoch_is_quiet(tmp_path: Path) -> None:
    kept = FREEZE_BN.replace("    model.train()\n", "    model.train()\n    for m in model.modules():\n"
                             "        if isinstance(m, nn.BatchNorm2d):\n            m.eval()\n")
    write_project(tmp_path, {"train.py": kept})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []



MODELS = """\
import torch
import torchvision


class GenResNet(torch.nn.Module):
    def __init__(self, weights="default"):
        super().__init__()
        self.resnet = torchvision.models.resnet18(weights="DEFAULT")
        for name, params in self.resnet.named_parameters():
            params.requires_grad = False
        self.classifier = torch.nn.Linear(512, 1)


class GenDenseNet(torch.nn.Module):
    def __init__(self, weights="default"):
        super().__init__()
        self.densenet = torchvision.models.densenet121(weights="DEFAULT")
        for params in self.densenet.parameters():
            params.requires_grad = False
        self.classifier = torch.nn.Linear(1024, 1)


class ConvNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3), torch.nn.BatchNorm2d(8))


def get_model(model_name, **kwargs):
    model_mapping = {"convnet": ConvNet, "resnet": GenResNet, "densenet": GenDenseNet}
    if kwargs["weights"]:
        return model_mapping[model_name](kwargs["weights"])
    return model_mapping[model_name]()
"""

TRAINING = """\
def train_model(model, loader, optimizer, criterion):
    for phase in ["train", "val"]:
        if phase == "train":
            model.train()
        else:
            model.eval()
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
"""

SCRIPT = """\
import torch

from modules.models import get_model
from modules.training import train_model

model = get_model({name!r}, weights={weights!r})
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
train_model(model, [], optimizer, torch.nn.BCEWithLogitsLoss())
"""


def _lint_table(tmp_path: Path, name: str, weights: object = "default") -> list:
    write_project(tmp_path, {"modules/__init__.py": "", "modules/models.py": MODELS, "modules/training.py": TRAINING,
                             "kfold.py": SCRIPT.format(name=name, weights=weights)})
    return lint_in_process(tmp_path / "kfold.py", "GL406")


def test_a_table_dispatching_factory_freezes_the_class_its_key_names(tmp_path: Path) -> None:
    [finding] = _lint_table(tmp_path, "densenet")
    assert finding.line == 6 and "`model.densenet` has BatchNorm layers and `get_model`" in finding.message
    assert "through `GenDenseNet`" in finding.message


def test_the_other_frozen_class_is_named_by_its_own_key(tmp_path: Path) -> None:
    [finding] = _lint_table(tmp_path, "resnet", None)
    assert "`model.resnet` has BatchNorm layers" in finding.message and "through `GenResNet`" in finding.message


def test_a_key_naming_a_class_that_freezes_nothing_is_quiet(tmp_path: Path) -> None:
    assert _lint_table(tmp_path, "convnet", None) == []


TRANSFORMER_BACKBONE = """\
import torch.nn as nn


class MixVisionTransformer(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.proj = nn.Conv2d(3, dims, 7, 4, 3)
        self.norm = nn.LayerNorm(dims)


class mit_b0(MixVisionTransformer):
    def __init__(self, pretrained=False):
        super().__init__(32)


class mit_b1(MixVisionTransformer):
    def __init__(self, pretrained=False):
        super().__init__(64)
"""

SEGFORMER = """\
import torch.nn as nn

from .backbone import mit_b0, mit_b1
{extra_import}

class ConvModule(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, 1, bias=False)
        self.bn = nn.BatchNorm2d(c2)


class SegFormer(nn.Module):
    def __init__(self, num_classes=21, phi="b0", pretrained=False):
        super().__init__()
        self.backbone = {{"b0": mit_b0, "b1": mit_b1{extra_entry}}}[phi](pretrained)
        self.decode_head = ConvModule(256, num_classes)
"""

SEG_TRAIN = """\
import torch

from nets.segformer import SegFormer

model = SegFormer(num_classes=21, phi="b0")
for param in model.backbone.parameters():
    param.requires_grad = False
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
for epoch in range(100):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def _lint_segformer(tmp_path: Path, extra_import: str = "", extra_entry: str = "") -> list:
    write_project(tmp_path, {"nets/__init__.py": "", "nets/backbone.py": TRANSFORMER_BACKBONE,
                             "nets/segformer.py": SEGFORMER.format(extra_import=extra_import, extra_entry=extra_entry),
                             "train.py": SEG_TRAIN})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_a_backbone_picked_from_an_inline_table_of_layernorm_transformers_has_no_batchnorm(tmp_path: Path) -> None:
    # (43/b bubbliiiing segformer: the BatchNorm is the decode head's, which trains)
    assert _lint_segformer(tmp_path) == []


def test_a_table_offering_a_batchnorm_backbone_is_read_as_that_configuration(tmp_path: Path) -> None:
    [finding] = _lint_segformer(tmp_path, "from torchvision.models import resnet50\n", ', "r50": resnet50')
    assert finding.line == 7 and "`model.backbone` has BatchNorm layers" in finding.message


LISTED = """\
import torch
import torch.nn as nn


class DoubleConv(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(c1, c2, 3, padding=1), {norm}(c2), nn.ReLU())


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down_1 = DoubleConv(3, 16)
        self.down_2 = DoubleConv(16, 32)
        self.bottle_neck = DoubleConv(32, 64)
        self.out = nn.Conv2d(64, 4, 1)


model = UNet()
for module in [model.down_1, model.down_2,
               model.bottle_neck]:
    for param in module.parameters():
        param.requires_grad = False
optimizer = torch.optim.AdamW(model.parameters())
for epoch in range(50):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_modules_frozen_through_a_literal_list_are_one_finding_on_their_model(tmp_path: Path) -> None:
    # (43/c Dyutin: a U-Net's encoder blocks, given an autoencoder's weights, frozen in a list)
    write_project(tmp_path, {"train.py": LISTED.format(norm="nn.BatchNorm2d")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 24
    assert "`model.down_1`, `model.down_2` and `model.bottle_neck` are frozen here" in finding.message


def test_the_same_blocks_without_batchnorm_are_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": LISTED.format(norm="nn.InstanceNorm2d")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


EXTRACTOR = """\
import torch.nn as nn


class FeatureExtractor(nn.Module):
    def __init__(self, model, layers):
        super().__init__()
        self.model = model.to("cpu")
        self.layers = layers

    def forward(self, x):
        return self.model(x)
"""

DISTIL = """\
import torch
import torchvision

from extractor import FeatureExtractor


def main():
    teacher = torchvision.models.resnet50(weights="DEFAULT")
    {mode}
    t_extractor = FeatureExtractor(teacher, ["layer3"])
    student = torchvision.models.resnet18()
    optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
    for epoch in range(10):
        student.train()
        for x, y in []:
            with torch.no_grad():
                target = t_extractor(x)
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(student(x), target).backward()
            optimizer.step()
"""


def test_a_wrapper_built_around_a_teacher_already_in_eval_mode_leaves_it_there(tmp_path: Path) -> None:
    # (the round 14/a re-run: Drake9098's ``teacher.eval()`` before ``FeatureExtractor(teacher, ...)``,
    # reported once the wrapper was read as holding the teacher's BatchNorm)
    write_project(tmp_path, {"extractor.py": EXTRACTOR, "train.py": DISTIL.format(mode="teacher.eval()")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_the_same_wrapper_around_a_teacher_never_put_in_eval_mode_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"extractor.py": EXTRACTOR, "train.py": DISTIL.format(mode="pass")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert "`t_extractor` has BatchNorm layers" in finding.message and "torch.no_grad()" in finding.message
