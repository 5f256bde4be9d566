"""GL406 on shapes held-out round 21 (/work/heldout54, /work/heldout55) found it reading
wrongly, in our own words:

- a training function of another module that calls ``freeze_backbone_bn(model)`` right
  after ``model.train()``: the helper puts the frozen BatchNorm back in eval (a false alarm);
- a trainer class that is no ``nn.Module`` with ``def train(self, num_epochs)`` calling
  ``self.model.eval()`` for validation: a training routine, not a ``train()`` override
  keeping BatchNorm in eval, so the whole file was wrongly quiet;
- that class's ``if self.model_name == "resnet": ... elif "vgg"`` chain: a file building it
  with ``"vgg"`` (a VGG without BatchNorm) only takes that arm.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

TRAINER = """\
    import torch


    def freeze_backbone_bn(model):
        for m in model.backbone.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.eval()


    def fit(loader, model, optimizer, epochs):
        for epoch in range(epochs):
            model.train()
            {after_train}
            for x, y in loader:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
"""

SCRIPT = """\
    import torch
    from torch import nn
    from torchvision.models import resnet50

    from engine import fit


    class Adapted(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = resnet50()
            self.head = nn.Linear(1000, 5)

        def forward(self, x):
            return self.head(self.backbone(x))


    model = Adapted()
    for p in model.backbone.parameters():
        p.requires_grad = False
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.01)
    fit([], model, optimizer, epochs=30)
"""


def test_a_batchnorm_eval_helper_after_train_in_an_imported_training_function_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"engine.py": TRAINER.format(after_train="freeze_backbone_bn(model)"), "train.py": SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_without_the_helper_the_imported_training_function_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"engine.py": TRAINER.format(after_train="pass"), "train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 20)
    assert "`model.train()` in `fit` (engine.py:12), called on line 22" in finding.message


FINE_TUNING = """\
    import copy

    import torch
    from torch import nn
    from torchvision import models


    class FineTuning:
        def __init__(self, model_name, classes, feature_extract=True):
            self.model_name = model_name
            self.classes = classes
            self.feature_extract = feature_extract
            self._initialize_model()

        def _initialize_model(self):
            self.model = None
            if self.model_name == "resnet":
                self.model = models.resnet18(weights=None)
                self._set_parameter_requires_grad()
                self.model.fc = nn.Linear(512, self.classes)
            elif self.model_name == "vgg":
                self.model = models.vgg16(weights=None)
                self._set_parameter_requires_grad()
                self.model.classifier[6] = nn.Linear(4096, self.classes)

        def _set_parameter_requires_grad(self):
            if self.feature_extract:
                for param in self.model.parameters():
                    param.requires_grad = False

        def train(self, num_epochs, loaders, optimizer):
            best = copy.deepcopy(self.model.state_dict())
            for epoch in range(num_epochs):
                for phase in ["train", "val"]:
                    if phase == "train":
                        self.model.train()
                    else:
                        self.model.eval()
                    for x, y in loaders[phase]:
                        optimizer.zero_grad()
                        loss = nn.functional.cross_entropy(self.model(x), y)
                        if phase == "train":
                            loss.backward()
                            optimizer.step()
            return best
"""


def test_a_trainer_class_train_routine_with_a_validation_eval_is_no_batchnorm_override(tmp_path: Path) -> None:
    write_project(tmp_path, {"finetuning.py": FINE_TUNING})
    [finding] = lint_in_process(tmp_path / "finetuning.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 29)
    assert "`self.model.train()` on line 36 puts it back in train mode" in finding.message


def test_a_real_train_override_keeping_batchnorm_in_eval_still_quiets_the_file(tmp_path: Path) -> None:
    override = FINE_TUNING.replace("class FineTuning:", "class FineTuning(nn.Module):").replace(
        "        def train(self, num_epochs, loaders, optimizer):",
        "        def train(self, mode=True):\n            super().train(mode)\n            self.model.eval()\n"
        "            return self\n\n        def fit(self, num_epochs, loaders, optimizer):")
    write_project(tmp_path, {"finetuning.py": override})
    assert lint_in_process(tmp_path / "finetuning.py", "GL406") == []


def test_the_arm_a_construction_in_the_file_picks_decides(tmp_path: Path) -> None:
    run = "\n\n    tuner = FineTuning({name!r}, 120)\n    tuner.train(15, {{'train': [], 'val': []}}, None)\n"
    write_project(tmp_path, {"vgg.py": FINE_TUNING + run.format(name="vgg"),
                             "resnet.py": FINE_TUNING + run.format(name="resnet")})
    assert lint_in_process(tmp_path / "vgg.py", "GL406") == []
    assert [f.line for f in lint_in_process(tmp_path / "resnet.py", "GL406")] == [29]


HEAD_NET = """\
    import torch
    from torch import nn
    from torchvision.models import mobilenet_v2


    class HeadNet(nn.Module):
        def __init__(self, classes=101):
            super().__init__()
            self.encoder = mobilenet_v2().features
            self.head = nn.Linear(1280, classes)

        def forward(self, x):
            with torch.no_grad():
                feats = self.encoder(x)
            return self.head(feats.mean((2, 3)))
"""

INLINE = """\
    import torch
    from torch import nn

    from models import HeadNet
    {import_fit}

    def fit(model, loader, epochs=3):
        optimizer = torch.optim.Adam(model.parameters())
        for epoch in range(epochs):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
        return model


    net = {call}(HeadNet(), [])
"""


def test_a_model_built_inside_the_call_of_a_training_function_is_that_function_s_model(tmp_path: Path) -> None:
    """Synthetic held-out set /work/heldout56 (food-features-head): ``net = train(FeatureHeadNet())``."""
    write_project(tmp_path, {"models.py": HEAD_NET, "train.py": INLINE.format(import_fit="", call="fit")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 18)
    assert finding.message.startswith("`HeadNet().encoder` has BatchNorm layers and `HeadNet` builds it and runs it "
                                      "under torch.no_grad() in forward (models.py:14)")
    assert "call `model.encoder.eval()` after each `model.train()`" in finding.message


def test_the_same_with_a_training_function_of_another_module(tmp_path: Path) -> None:
    engine = INLINE.format(import_fit="", call="fit").split("\n\n\n    net =")[0].replace("from models import HeadNet\n", "")
    write_project(tmp_path, {"models.py": HEAD_NET, "engine.py": engine,
                             "train.py": "from engine import fit\nfrom models import HeadNet\n\nnet = fit(HeadNet(), [])\n"})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 4)
    assert "`model.train()` in `fit` (engine.py:9), called on line 4 with `HeadNet()`" in finding.message


KAGGLE = """\
    import timm
    import torch
    from torch import nn


    class CFG:
        model_name = "{name}"
        epochs = 10


    def build_model():
        model = timm.create_model(CFG.model_name, pretrained=False, num_classes=5)
        for p in model.parameters():
            p.requires_grad = False
        for p in model.get_classifier().parameters():
            p.requires_grad = True
        return model


    model = build_model()
    optimizer = torch.optim.Adam(model.get_classifier().parameters())
    for epoch in range(CFG.epochs):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


def test_a_timm_name_held_by_a_configuration_class_attribute(tmp_path: Path) -> None:
    """Synthetic held-out set /work/heldout56 (timm-effnet-kaggle): ``class CFG: model_name = ...``."""
    write_project(tmp_path, {"effnet.py": KAGGLE.format(name="tf_efficientnet_b3_ns"),
                             "vit.py": KAGGLE.format(name="vit_base_patch16_224")})
    [finding] = lint_in_process(tmp_path / "effnet.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 20)
    assert finding.message.startswith("`model` has BatchNorm layers and `build_model` (line 13) returns it")
    assert lint_in_process(tmp_path / "vit.py", "GL406") == []


DATA = """\
    import torch


    def fit(model, loader, optimizer, epochs, before_epoch=None):
        for epoch in range(epochs):
            model.train()
            if before_epoch is not None:
                before_epoch(model)
            for x, y in loader:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
"""

CALLBACK = """\
    import torch
    from torch import nn
    from torchvision import models

    from data import fit

    net = models.efficientnet_b0(weights=None)
    for p in net.features.parameters():
        p.requires_grad = False
    net.classifier = nn.Linear(1280, 10)


    def keep_features_frozen(m):
        m.features.eval()


    optimizer = torch.optim.Adam(net.classifier.parameters())
    fit(net, [], optimizer, 20{callback})
"""


def test_a_callback_the_training_function_calls_after_train_may_put_it_back(tmp_path: Path) -> None:
    """Synthetic held-out set /work/heldout57 (plant_disease_timm): ``fit(..., before_epoch=...)``."""
    write_project(tmp_path, {"data.py": DATA, "with_hook.py": CALLBACK.format(callback=", before_epoch=keep_features_frozen"),
                             "without.py": CALLBACK.format(callback="")})
    assert lint_in_process(tmp_path / "with_hook.py", "GL406") == []
    [finding] = lint_in_process(tmp_path / "without.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 9)
    assert "`model.train()` in `fit` (data.py:6), called on line 18 with `net`" in finding.message


NAMED = """\
    import torch
    from torch import nn
    from torchvision import models


    def freeze_layers(model, names):
        for name in names:
            for p in getattr(model, name).parameters():
                p.requires_grad = False


    net = models.resnet101(weights=None)
    net.fc = nn.Linear(2048, 120)
    {freeze}
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=0.01)
    for epoch in range(30):
        net.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            optimizer.step()
"""


def test_children_frozen_by_name_through_getattr(tmp_path: Path) -> None:
    """Synthetic held-out set /work/heldout56 (stem-freeze-finetune), in the file's own helper and inline."""
    write_project(tmp_path, {
        "helper.py": NAMED.format(freeze='freeze_layers(net, ["conv1", "bn1", "layer1", "layer2"])'),
        "inline.py": NAMED.format(freeze='for name in ("bn1", "layer1"):\n        getattr(net, name).requires_grad_(False)'),
        "heads.py": NAMED.format(freeze='freeze_layers(net, ["conv1", "fc"])')})
    [helper] = lint_in_process(tmp_path / "helper.py", "GL406")
    assert (helper.code, helper.line) == ("GL406", 14)
    assert ("`freeze_layers` (line 7) freezes `net.conv1`, `net.bn1`, `net.layer1` and `net.layer2` here, but "
            "`net.train()` on line 17") in helper.message
    [inline] = lint_in_process(tmp_path / "inline.py", "GL406")
    assert inline.line == 15
    assert "`net.bn1` and `net.layer1` are frozen here" in inline.message
    assert lint_in_process(tmp_path / "heads.py", "GL406") == []


def test_a_model_built_in_a_keyword_argument_of_the_training_function(tmp_path: Path) -> None:
    source = INLINE.format(import_fit="", call="fit").replace("net = fit(HeadNet(), [])", "net = fit(loader=[], model=HeadNet())")
    write_project(tmp_path, {"models.py": HEAD_NET, "train.py": source})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 18)
    assert finding.message.startswith("`HeadNet().encoder` has BatchNorm layers")
