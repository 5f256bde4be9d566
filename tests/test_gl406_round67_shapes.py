"""GL406 shapes of held-out round 67 (``bench/heldout/round67``), in our own words: the
``module`` of a DataParallel model, a ``train()`` override switching only the decoder, a
course's Experiment class keeping its arguments through ``locals()``, a freeze loop over a
list of stages bound to a name, the pytorch-template layout (packages re-exporting the model
and the trainer, ``super().__init__(model, ...)``, a base ``train()`` running
``_train_epoch``), and a timm model named by a configuration class's default."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project


PARALLEL = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    def main(loader):
        model = models.resnet18(weights="DEFAULT")
        model.fc = nn.Linear(512, 3)
        model = nn.DataParallel(model)
        optimizer = torch.optim.SGD(model.{part}.parameters(), lr=0.01, momentum=0.9)
        for epoch in range(100):
            model.train(True)
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
"""


@pytest.mark.parametrize(("part", "expected"), [("module", []), ("module.fc", [("GL406", 10)])])
def test_the_module_of_a_data_parallel_model_is_the_whole_model(tmp_path: Path, part: str, expected: list) -> None:
    """Round 67/a's FastFlow baselines (a false finding of the first run): ``model =
    nn.DataParallel(model)`` then ``SGD(model.module.parameters())`` trains every parameter."""
    write_project(tmp_path, {"main.py": PARALLEL.format(part=part)})
    findings = lint_in_process(tmp_path / "main.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


STYLE = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    class Transfer(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = models.vgg19_bn(weights="DEFAULT").features[:30]
            for p in self.encoder.parameters():
                p.requires_grad = False
            self.encoder.eval()
            self.decoder = nn.Sequential(nn.Conv2d(512, 3, 3, padding=1))

        def forward(self, x):
            return self.decoder(self.encoder(x))

        def train(self, mode=True):
            {override}
            return self


    def fit(loader):
        model = Transfer()
        opt = torch.optim.Adam(model.decoder.parameters())
        for epoch in range(40):
            model.train()
            for x in loader:
                loss = (model(x) - x).pow(2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
"""


@pytest.mark.parametrize(("override", "expected"), [
    ("self.decoder.train(mode)", []),
    ("super().train(mode)", [("GL406", 11)]),
])
def test_a_train_override_switching_only_the_decoder(tmp_path: Path, override: str, expected: list) -> None:
    """Round 67/b's AdaIN (a false finding of the first run): ``def train(self):
    self.decoder.train()`` leaves the frozen, eval'd VGG-BN encoder in eval mode."""
    write_project(tmp_path, {"style.py": STYLE.format(override=override)})
    findings = lint_in_process(tmp_path / "style.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


EXPERIMENT = """\
    import torch


    class Experiment:
        def __init__(self, net, loader, optimizer, epochs=10):
            history = []
            {keep}

        def run(self):
            self.net.train()
            for epoch in range(self.epochs):
                for x, y in self.loader:
                    self.optimizer.zero_grad()
                    torch.nn.functional.cross_entropy(self.net(x), y).backward()
                    self.optimizer.step()
"""

BIRD_MODEL = """\
    import torch.nn as nn
    import torchvision as tv


    class Transfer(nn.Module):
        def __init__(self, classes, fine_tuning=False):
            super().__init__()
            net = tv.models.resnet18(weights="DEFAULT")
            for param in net.parameters():
                param.requires_grad = fine_tuning
            self.net = net
            self.net.fc = nn.Linear(512, classes)

        def forward(self, x):
            return self.net(x)
"""

BIRDS = """\
    import torch
    import nntools as nt
    from model import Transfer


    def main(loader):
        model = Transfer(20)
        adam = torch.optim.Adam(model.parameters(), lr=1e-3)
        exp = nt.Experiment(model, loader, adam)
        exp.run()
"""


@pytest.mark.parametrize(("keep", "expected"), [
    ("self.__dict__.update({k: v for k, v in locals().items() if k != 'self'})", [("GL406", 7)]),
    ("self.__dict__.update(locals())", [("GL406", 7)]),
    ("self.loader, self.optimizer = loader, optimizer", []),  # the network is never kept: nothing trains it there
])
def test_an_experiment_class_keeping_its_arguments_through_locals(tmp_path: Path, keep: str, expected: list) -> None:
    """Round 67/a's bird classifier: a course's ``nntools.Experiment`` keeps every argument
    with ``self.__dict__.update(locals())`` and its ``run()`` calls ``self.net.train()``."""
    write_project(tmp_path, {"nntools.py": EXPERIMENT.format(keep=keep), "model.py": BIRD_MODEL, "birds.py": BIRDS})
    findings = lint_in_process(tmp_path / "birds.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("`Experiment` (nntools.py:10)" in f.message for f in findings)


STEM = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    class Detector(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = models.resnet50(weights="DEFAULT")
            to_freeze = [{parts}]
            for block in to_freeze:
                for param in block.parameters():
                    param.requires_grad = False
            self.net.fc = nn.Linear(2048, 2)

        def forward(self, x):
            return self.net(x)


    def fit(loader):
        model = Detector()
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
        for epoch in range(12):
            model.train()
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
"""


@pytest.mark.parametrize(("parts", "expected"), [
    ("self.net.conv1, self.net.bn1, self.net.layer1, self.net.layer2, self.net.layer3", [("GL406", 13)]),
    ("self.net.conv1", []),  # a convolution alone: no BatchNorm frozen
])
def test_a_freeze_loop_over_a_list_of_stages_bound_to_a_name_first(tmp_path: Path, parts: str, expected: list) -> None:
    """Round 67/a's deepfake detector: ``layers_to_freeze = [self.model.conv1, self.model.bn1,
    ..., self.model.layer3]`` then ``for layer in layers_to_freeze: for p in
    layer.parameters(): ...``."""
    write_project(tmp_path, {"detector.py": STEM.format(parts=parts)})
    findings = lint_in_process(tmp_path / "detector.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


TEMPLATE = {
    "model/__init__.py": "from .encoders import ImageQA, TextQA\nfrom .loss import *\n",
    "model/loss.py": "import torch.nn.functional as F\n\n\ndef nll(output, target):\n    return F.nll_loss(output, target)\n",
    "model/encoders.py": """\
        import timm
        import torch.nn as nn


        class ImageQA(nn.Module):
            def __init__(self, answers):
                super().__init__()
                self.cnn = timm.create_model("resnet50", pretrained=True, num_classes=0)
                for p in self.cnn.parameters():
                    p.requires_grad = False
                self.head = nn.Linear(self.cnn.num_features, answers)

            def forward(self, image):
                return self.head(self.cnn(image))


        class TextQA(nn.Module):
            def __init__(self, answers):
                super().__init__()
                self.head = nn.Linear(300, answers)

            def forward(self, text):
                return self.head(text)
    """,
    "base/__init__.py": "from .base_trainer import BaseTrainer\n",
    "base/base_trainer.py": """\
        class BaseTrainer:
            def __init__(self, model, criterion, optimizer, epochs):
                self.model = model
                self.criterion = criterion
                self.optimizer = optimizer
                self.epochs = epochs

            def _train_epoch(self, epoch):
                raise NotImplementedError

            def train(self):
                for epoch in range(self.epochs):
                    self._train_epoch(epoch)
    """,
    "trainer/__init__.py": "from .trainer import QATrainer\n",
    "trainer/trainer.py": """\
        from base import BaseTrainer


        class QATrainer(BaseTrainer):
            def __init__(self, model, criterion, optimizer, loader, epochs=30):
                super().__init__(model, criterion, optimizer, epochs)
                self.loader = loader

            def _train_epoch(self, epoch):
                self.model.train()
                for image, answer in self.loader:
                    loss = self.criterion(self.model(image), answer)
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
    """,
    "train.py": """\
        import torch
        import model as module_arch
        from trainer import QATrainer


        def main(loader):
            model = module_arch.{arch}(1000)
            optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
            trainer = QATrainer(model, module_arch.nll, optimizer, loader)
            trainer.{drive}()
    """,
}


@pytest.mark.parametrize(("arch", "drive", "expected"), [
    ("ImageQA", "train", [("GL406", 7)]),
    ("TextQA", "train", []),  # nothing frozen
    ("ImageQA", "summary", []),  # never asked to train
])
def test_a_pytorch_template_project_with_packages_reexporting_the_model_and_the_trainer(
        tmp_path: Path, arch: str, drive: str, expected: list) -> None:
    """Round 67/b's VQA (the pytorch-template layout): ``import model as module_arch`` whose
    ``__init__`` re-exports the model classes, ``from trainer import QATrainer`` likewise, the
    trainer keeping the model through ``super().__init__(model, ...)`` and driven by the base
    class's ``train()``, which runs the subclass's ``_train_epoch``."""
    files = dict(TEMPLATE)
    files["train.py"] = files["train.py"].format(arch=arch, drive=drive)
    write_project(tmp_path, files)
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("`ImageQA` (model/encoders.py:9)" in f.message and "`QATrainer` (trainer/trainer.py:10)" in f.message
               for f in findings)


CFG = """\
    class Config:
        modelName = "{name}"
        tuneFcOnly = True
        lr = 1e-3
"""

LIT_TIMM = """\
    import lightning as L
    import timm
    import torch
    import torch.nn.functional as F
    from cfg import Config


    class Classifier(L.LightningModule):
        def __init__(self, classes=10, model_name=Config.modelName, tune_fc_only=Config.tuneFcOnly):
            super().__init__()
            self.model = timm.create_model(model_name, pretrained=True, num_classes=classes)
            if tune_fc_only:
                for child in list(self.model.children())[:-1]:
                    for param in child.parameters():
                        param.requires_grad = False

        def training_step(self, batch, idx):
            x, y = batch
            return F.cross_entropy(self.model(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=Config.lr)
"""


@pytest.mark.parametrize(("name", "expected"), [("mobilenetv3_small_050.lamb_in1k", [("GL406", 15)]),
                                                ("vit_tiny_patch16_224", [])])
def test_a_timm_model_named_by_a_config_class_default(tmp_path: Path, name: str, expected: list) -> None:
    """Round 67/c's timm trainer: ``model_name=Config.modelName`` (a class of cfg.py) as the
    LightningModule's default, ``timm.create_model(model_name)``, frozen but its head under
    ``tune_fc_only=Config.tuneFcOnly``."""
    write_project(tmp_path, {"cfg.py": CFG.format(name=name), "model.py": LIT_TIMM})
    findings = lint_in_process(tmp_path / "model.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


DENSE = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = models.densenet121(weights="DEFAULT")
            self.model.classifier = nn.Linear(1024, 1)
            for param in self.model.parameters():
                param.requires_grad = False
            to_train = [{parts}]
            for module in to_train:
                for param in module.parameters():
                    param.requires_grad = True

        def forward(self, x):
            return self.model(x)


    def fit(loader):
        net = Net()
        opt = torch.optim.AdamW(p for p in net.parameters() if p.requires_grad)
        net.train()
        for x, y in loader:
            loss = nn.functional.binary_cross_entropy_with_logits(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
"""


@pytest.mark.parametrize(("parts", "expected"), [
    ("self.model.features.denseblock4, self.model.features.norm5, self.model.classifier", [("GL406", 12)]),
    ("self.model.features, self.model.classifier", []),  # all of it trainable again
])
def test_a_densenet_whose_last_dense_block_a_bound_list_reopens(tmp_path: Path, parts: str, expected: list) -> None:
    """Round 54/a's x-ray classifier (missed again once bound lists were read, e1a0d67, found
    by the full re-run): ``features.denseblock4`` and ``features.norm5`` are a DenseNet's last
    stage, so the stem and the earlier blocks stay frozen."""
    write_project(tmp_path, {"task.py": DENSE.format(parts=parts)})
    findings = lint_in_process(tmp_path / "task.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
