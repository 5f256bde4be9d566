"""GL406 shapes of the synthetic held-out round 70s (``bench/heldout/round70s``), in our own
words: a BYOL target network moved by a moving average written as a loop over pairs of
modules (a look-alike the first run reported)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import lint_in_process, write_project
from gradlint.config import Settings
from gradlint.fix.apply import fix_text

BYOL = """\
    import copy

    import torch
    import torch.nn as nn
    import torchvision


    class BYOL(nn.Module):
        def __init__(self, tau=0.996):
            super().__init__()
            self.online = torchvision.models.resnet18()
            self.online.fc = nn.Identity()
            self.head = nn.Sequential(nn.Linear(512, 1024), nn.BatchNorm1d(1024), nn.ReLU(), nn.Linear(1024, 128))
            self.target = copy.deepcopy(self.online)
            self.target_head = copy.deepcopy(self.head)
            for p in list(self.target.parameters()) + list(self.target_head.parameters()):
                p.requires_grad = False
            self.tau = tau

        @torch.no_grad()
        def update_target(self):
            for online, target in ((self.online, self.target), (self.head, self.target_head)):
                for po, pt in zip(online.parameters(), target.parameters()):
                    {update}

        def forward(self, a, b):
            p = self.head(self.online(a))
            with torch.no_grad():
                z = self.target_head(self.target(b))
            return (2 - 2 * nn.functional.cosine_similarity(p, z)).mean()


    def main(loader, epochs=100):
        model = BYOL()
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.3)
        for epoch in range(epochs):
            model.train()
            for a, b in loader:
                loss = model(a, b)
                opt.zero_grad()
                loss.backward()
                opt.step()
                model.update_target()
"""


@pytest.mark.parametrize(("update", "expected"), [
    ("pt.mul_(self.tau).add_(po.detach(), alpha=1 - self.tau)", []),
    ("pass", [("GL406", 17)]),
])
def test_a_target_network_moved_through_a_loop_over_module_pairs(tmp_path: Path, update: str, expected: list) -> None:
    write_project(tmp_path, {"byol.py": BYOL.format(update=update)})
    findings = lint_in_process(tmp_path / "byol.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


DISTILL = """\
    import lightning as L
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision


    class Teacher(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torchvision.models.resnet50()

        def forward(self, x):
            return self.net(x)


    class Distill(L.LightningModule):
        def __init__(self, teacher):
            super().__init__()
            self.teacher = teacher
            self.teacher.freeze()
            self.student = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.Flatten(), nn.LazyLinear(10))

        def training_step(self, batch, _):
            x, y = batch
            s, t = self.student(x), self.teacher(x)
            return F.cross_entropy(s, y) + F.kl_div(F.log_softmax(s, 1), F.softmax(t, 1), reduction="batchmean")

        def configure_optimizers(self):
            return torch.optim.Adam(self.student.parameters())


    teacher = {teacher}
    module = Distill(teacher)
    L.Trainer(max_epochs=30).fit(module, train_loader)
"""


@pytest.mark.parametrize(("teacher", "expected"), [
    ('Teacher.load_from_checkpoint("teacher.ckpt")', [("GL406", 21)]),
    ("Teacher()", [("GL406", 21)]),
    ("torch.load('teacher.pt')", []),
])
def test_a_lightning_teacher_handed_in_and_frozen_with_freeze(tmp_path: Path, teacher: str, expected: list) -> None:
    """Round 70s/b's distillation notebook: the LightningModule teacher is handed to the
    distiller, whose ``__init__`` calls ``self.teacher.freeze()`` (Lightning's: eval and
    ``requires_grad_(False)``); ``Trainer.fit`` puts the distiller, teacher included, back in
    train mode. A teacher of unknown make (``torch.load``) has a ``freeze`` gradlint cannot read."""
    write_project(tmp_path, {"distill.py": DISTILL.format(teacher=teacher)})
    findings = lint_in_process(tmp_path / "distill.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


GALAXY = """\
    import pytorch_lightning as pl
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision


    class Regressor(pl.LightningModule):
        def __init__(self, lr=1e-3):
            super().__init__()
            self.encoder = torchvision.models.efficientnet_b0(weights="DEFAULT").features
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, 37))

        def setup(self, stage=None):
            if stage == "fit":
                for p in self.encoder.parameters():
                    p.requires_grad = False
{base_hook}
        def forward(self, x):
            return self.head(self.encoder(x))

        def training_step(self, batch, batch_idx):
            x, y = batch
            return F.mse_loss(self(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.head.parameters(), lr=1e-3)


    class RegressorBNFixed(Regressor):
        def on_train_epoch_start(self):
            self.encoder.eval()
"""
HOOK = "\n        def on_train_epoch_start(self):\n            self.encoder.eval()\n"


@pytest.mark.parametrize(("base_hook", "expected"), [("", [("GL406", 17)]), (HOOK, [])])
def test_a_subclass_hook_does_not_keep_the_base_class_in_eval(tmp_path: Path, base_hook: str, expected: list) -> None:
    """Round 70s/a's galaxy regressor: the base LightningModule freezes its encoder in
    ``setup`` and never puts it in eval; only its subclass's ``on_train_epoch_start`` does,
    which instances of the base class do not run."""
    write_project(tmp_path, {"modules.py": GALAXY.format(base_hook=base_hook)})
    findings = lint_in_process(tmp_path / "modules.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


KAGGLE = """\
    import timm
    import torch
    import torch.nn as nn

    CFG = {{"model_name": "{name}", "epochs": 6, "lr": 3e-4}}
    {override}

    def freeze_all_but_head(model):
        for p in model.parameters():
            p.requires_grad = False
        for p in model.get_classifier().parameters():
            p.requires_grad = True


    model = timm.create_model(CFG["model_name"], pretrained=True, num_classes=5)
    freeze_all_but_head(model)
    optimizer = torch.optim.AdamW(filter(lambda p: p.requires_grad, model.parameters()), lr=CFG["lr"])


    def train_one_epoch(loader):
        model.train()
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("name", "override", "expected"), [
    ("tf_efficientnet_b3_ns", "", [("GL406", 16)]),
    ("vit_base_patch16_224", "", []),
    ("tf_efficientnet_b3_ns", 'CFG["model_name"] = input()', []),
])
def test_a_timm_model_named_by_a_config_dict_entry(tmp_path: Path, name: str, override: str, expected: list) -> None:
    """Round 70s/a's Kaggle notebook: ``timm.create_model(CFG["model_name"])`` with the name
    in the notebook's ``CFG`` dict literal (an entry set again elsewhere is unknown)."""
    write_project(tmp_path, {"train.py": KAGGLE.format(name=name, override=override)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


CHEXNET = """\
    import torch
    import torch.nn as nn
    import torchvision

    EPOCHS = 40
    FREEZE_EPOCHS = {freeze_epochs}
    model = torchvision.models.densenet121(weights="DEFAULT")
    model.classifier = nn.Linear(1024, 14)


    def set_features_trainable(flag):
        for p in model.features.parameters():
            p.requires_grad = flag


    set_features_trainable(False)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for epoch in range(EPOCHS):
        if epoch == FREEZE_EPOCHS:
            set_features_trainable(True)
        model.train()
        for x, y in train_dl:
            loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("freeze_epochs", "expected"), [("20", [("GL406", 16)]), ("3", [])])
def test_a_module_level_helper_setting_the_flag_on_the_script_model(tmp_path: Path, freeze_epochs: str,
                                                                    expected: list) -> None:
    """Round 70s/b's CheXNet notebook: ``set_features_trainable(flag)`` sets
    ``requires_grad`` on the notebook's own model; ``(False)`` before the epochs freezes the
    DenseNet features, ``(True)`` at ``epoch == FREEZE_EPOCHS`` ends the frozen phase: 20
    epochs of drifting BatchNorm is a finding, a 3-epoch warm-up is not."""
    write_project(tmp_path, {"train.py": CHEXNET.format(freeze_epochs=freeze_epochs)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


LINEAR_EVAL = """\
    import torch
    import torch.nn as nn
    import torchvision


    def main(loader):
        encoder = torchvision.models.resnet18()
        encoder.fc = nn.Identity()
        classifier = nn.Linear(512, 10)
        model = nn.Sequential(encoder, classifier)
        optimizer = torch.optim.Adam({optimised}.parameters(), lr=3e-4)
        {handed}
        for epoch in range(100):
            model.train()
            for x, y in loader:
                feats = encoder(x).detach()
                loss = nn.functional.cross_entropy(classifier(feats), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            model.eval()
"""


@pytest.mark.parametrize(("optimised", "handed", "expected"), [
    ("classifier", "pass", [("GL406", 16)]),
    ("model", "pass", []),  # the Sequential is optimised: the encoder trains with it
    ("classifier", "log_model(model)", []),  # handed to a helper gradlint does not read here
])
def test_a_sequential_holding_an_encoder_no_optimiser_takes(tmp_path: Path, optimised: str, handed: str,
                                                            expected: list) -> None:
    """Round 70s/b's BYOL linear evaluation: ``model = nn.Sequential(encoder, classifier)``
    for ``model.train()``/``eval()``, only the classifier optimised and the encoder's output
    detached; the encoder is ``model[0]``, which ``model.train()`` puts back in train mode.
    The fix puts ``model[0]`` back in eval mode, and the fixed file is not reported again."""
    write_project(tmp_path, {"train.py": LINEAR_EVAL.format(optimised=optimised, handed=handed)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert "`model[0]` has BatchNorm layers and no optimiser of the file takes its parameters as `encoder`, " \
               "which `model` holds (line 10)" in findings[0].message
        settings = Settings(select=["GL406"], root=tmp_path)
        path = tmp_path / "train.py"
        text, count = fix_text(str(path), path.read_text(), settings)
        assert count == 1 and "        model.train()\n        model[0].eval()\n" in text
        ast.parse(text)
        path.write_text(text)
        assert lint_in_process(path, "GL406") == []
