"""GL406 shapes of held-out round 59's rows the first run missed (its other shapes are in
``test_gl406_round59_shapes``), in our own words:

- a detector whose ``__init__`` freezes the first blocks of a local EfficientNet's
  ``features`` through an alias (``blocks = net.features``), counting them with a counter
  the loop adds one to and a bound read as ``config.get("freeze_blocks", 3)``, and keeps
  the frozen stages in ``nn.Sequential(net.features, net.avgpool)``;
- a classifier built by a project function (``model = build_model(cfg)``) whose class has a
  ``freeze_backbone()`` method the training script calls before ``model.train()``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

DETECTOR = """\
    import torch
    import torch.nn as nn
    import torchvision.models as models

    SETTINGS = {{"freeze_blocks": 3, "lr": 1e-3}}


    class Detector(nn.Module):
        def __init__(self, config):
            super().__init__()
            net = models.{arch}(weights=None)
            blocks = net.features
            how_many = config.get("freeze_blocks", {bound})
            seen = 0
            for index, block in enumerate(blocks.children()):
                if seen < how_many:
                    for weight in block.parameters():
                        weight.requires_grad = False
                else:
                    for weight in block.parameters():
                        weight.requires_grad = True
                seen += 1
            self.trunk = nn.Sequential(net.features, net.avgpool)
            self.head = nn.Linear(1280, 1)

        def forward(self, x):
            return self.head(self.trunk(x).flatten(1))


    def fit(model, batches, loss_fn, optimizer, epochs):
        for epoch in range(epochs):
            model.train()
            {restore}
            for x, y in batches:
                optimizer.zero_grad()
                loss_fn(model(x), y).backward()
                optimizer.step()


    def main():
        model = Detector(SETTINGS)
        optimizer = torch.optim.AdamW(model.parameters(), lr=SETTINGS["lr"])
        fit(model, [], nn.BCEWithLogitsLoss(), optimizer, 10)


    if __name__ == "__main__":
        main()
"""


def _detector(tmp_path: Path, arch: str = "efficientnet_b0", bound: str = "3", restore: str = "") -> list:
    write_project(tmp_path, {"detector.py": DETECTOR.format(arch=arch, bound=bound, restore=restore)})
    return lint_in_process(tmp_path / "detector.py", "GL406")


def test_first_blocks_frozen_through_an_alias_and_kept_in_a_sequential(tmp_path: Path) -> None:
    findings = _detector(tmp_path)
    assert [(f.code, f.line) for f in findings] == [("GL406", 18)]  # (the freeze itself)
    assert "`model.trunk`" in findings[0].message
    assert "the first 3 child modules of `net.features`" in findings[0].message


def test_blocks_put_back_in_eval_are_quiet(tmp_path: Path) -> None:
    assert _detector(tmp_path, restore="model.trunk.eval()") == []


def test_a_bound_too_small_to_reach_batchnorm_is_not_read(tmp_path: Path) -> None:
    # (one block: fewer than the two children a prefix must hold to be read)
    assert _detector(tmp_path, bound="1") == []


def test_a_vgg_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    assert _detector(tmp_path, arch="vgg16") == []


CLASSIFIER = """\
    import timm
    import torch.nn as nn


    class Classifier(nn.Module):
        def __init__(self, backbone_name="{arch}", num_classes=6):
            super().__init__()
            self.backbone = timm.create_model(backbone_name, pretrained=False, num_classes=0)
            self.head = nn.Linear(self.backbone.num_features, num_classes)

        def forward(self, x):
            return self.head(self.backbone(x))

        def freeze_backbone(self):
            for weight in self.backbone.parameters():
                weight.requires_grad = False

        def unfreeze_backbone(self):
            for weight in self.backbone.parameters():
                weight.requires_grad = True


    def build_model(config):
        model = Classifier(backbone_name=config["backbone"], num_classes=config["classes"])
        return model
"""

TRAIN = """\
    import torch
    import torch.nn as nn

    from src.model import build_model


    def one_epoch(model, loader, loss_fn, optimizer):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()


    def main(config):
        model = build_model(config)
        model.freeze_backbone()
        {after}
        optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
        for epoch in range(30):
            one_epoch(model, [], nn.CrossEntropyLoss(), optimizer)
"""


@pytest.mark.parametrize("arch, after, reported", [("efficientnet_b0", "", True),
                                                   ("efficientnet_b0", "model.unfreeze_backbone()", False),
                                                   ("vgg16", "", False)])
def test_a_freezing_method_of_the_class_a_project_builder_returns(tmp_path: Path, arch: str, after: str,
                                                                  reported: bool) -> None:
    # (the timm model the class builds is the one its parameter's default names)
    write_project(tmp_path, {"src/__init__.py": "", "src/model.py": CLASSIFIER.format(arch=arch),
                             "train.py": TRAIN.format(after=after)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    if reported:
        assert [(f.code, f.line) for f in findings] == [("GL406", 17)]
        assert "`Classifier.freeze_backbone`" in findings[0].message
    else:  # (made trainable again before training, or no BatchNorm)
        assert findings == []


def test_a_builder_returning_another_class_links_nothing(tmp_path: Path) -> None:
    other = CLASSIFIER.replace("    model = Classifier(", "    model = nn.Sequential(")
    write_project(tmp_path, {"src/__init__.py": "", "src/model.py": other, "train.py": TRAIN.format(after="")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


@pytest.mark.parametrize("built", ["build_model(config)", "Classifier()"])
def test_a_batchnorm_head_does_not_lend_batchnorm_to_a_plain_backbone(tmp_path: Path, built: str) -> None:
    # (the frozen timm VGG holds none; the BatchNorm1d is the trainable head's)
    classifier = CLASSIFIER.format(arch="vgg16").replace(
        "self.head = nn.Linear(self.backbone.num_features, num_classes)",
        "self.head = nn.Sequential(nn.Linear(self.backbone.num_features, 64), nn.BatchNorm1d(64), nn.Linear(64, num_classes))")
    train = TRAIN.format(after="").replace("model = build_model(config)", f"model = {built}")
    if built == "Classifier()":
        train = train.replace("from src.model import build_model", "from src.model import Classifier")
    write_project(tmp_path, {"src/__init__.py": "", "src/model.py": classifier, "train.py": train})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
    write_project(tmp_path, {"src/model.py": classifier.replace('"vgg16"', '"efficientnet_b0"')})
    assert [f.line for f in lint_in_process(tmp_path / "train.py", "GL406")] == [17]


DUAL = """\
    import torch.nn as nn
    from torchvision import models


    class Dual(nn.Module):
        def __init__(self):
            super().__init__()
            self.photo_encoder = models.resnet18(weights=None)
            self.aerial_encoder = models.{aerial}(weights=None)
            self.head = nn.Linear(2000, 5)

        def lock(self, which):
            if which == "photo":
                for weight in self.photo_encoder.parameters():
                    weight.requires_grad = False
            elif which == "aerial":
                for weight in self.aerial_encoder.parameters():
                    weight.requires_grad = False
            else:
                raise ValueError(which)
"""

DUAL_TRAIN = """\
    import torch

    from dual import Dual

    model = Dual()
    model.lock("{which}")
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
    for epoch in range(20):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


@pytest.mark.parametrize("aerial, which, frozen", [("resnet34", "aerial", "model.aerial_encoder"),
                                                    ("resnet34", "photo", "model.photo_encoder"),
                                                    ("vgg16", "aerial", None)])
def test_an_imported_method_freezes_the_arm_its_string_argument_picks(tmp_path: Path, aerial: str, which: str,
                                                                      frozen: str) -> None:
    # (round 60/a, rosikand's CRISP probe: ``lock("remote_sensing")`` was read as the first arm's freeze)
    write_project(tmp_path, {"dual.py": DUAL.format(aerial=aerial), "train.py": DUAL_TRAIN.format(which=which)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [f.line for f in findings] == ([6] if frozen else [])
    if frozen:
        assert f"`{frozen}`" in findings[0].message
