"""GL406 shapes from held-out round 30 (real code, ``bench/heldout/round30``):

- a distillation fold trains the teacher with a supervised helper of the same file, then
  freezes it and distils with ``teacher.eval()``: the helper's ``model.train()`` ran before
  the freeze (a false alarm on a plant-disease distillation project);
- a training function of another module takes an ``early_stopping`` callback that it calls
  with the model; an ``EarlyStopping`` instance of that module never puts the model in eval
  mode, so the frozen backbone stays in train mode (PlantVillage transfer learning);
- a model class freezes local torchvision backbones in ``__init__`` and keeps them wrapped
  in a feature-extractor module of another file (``self.google = FeatureExtractor(google,
  "avgpool")``), trained by an imported engine (a Food-101 ensemble).
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

DISTIL = """\
import torch
import torch.nn as nn
import torchvision


def train_supervised(model, loader, epochs):
    optimizer = torch.optim.Adam(model.parameters())
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
    return model


def distill(student, teacher, loader, epochs):
    optimizer = torch.optim.Adam(student.parameters())
    teacher.eval()
    for epoch in range(epochs):
        student.train()
        for x, y in loader:
            optimizer.zero_grad()
            with torch.no_grad():
                t = teacher(x)
            nn.functional.kl_div(student(x).log_softmax(1), t.softmax(1), reduction="batchmean").backward()
            optimizer.step()
    return student


def run_fold(loader):
    teacher = torchvision.models.resnet50(weights=None)
{order}
    student = torchvision.models.resnet18(weights=None)
    return distill(student, teacher, loader, epochs=10)
"""

TRAIN_THEN_FREEZE = """\
    teacher = train_supervised(teacher, loader, epochs=10)
    for p in teacher.parameters():
        p.requires_grad_(False)"""

FREEZE_THEN_TRAIN = """\
    for p in teacher.parameters():
        p.requires_grad_(False)
    teacher = train_supervised(teacher, loader, epochs=10)"""


def test_a_teacher_trained_by_a_helper_before_it_is_frozen_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"kd.py": DISTIL.format(order=TRAIN_THEN_FREEZE)})
    assert lint_in_process(tmp_path / "kd.py", "GL406") == []


def test_a_teacher_frozen_and_then_handed_to_the_training_helper_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"kd.py": DISTIL.format(order=FREEZE_THEN_TRAIN)})
    [finding] = lint_in_process(tmp_path / "kd.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 35)
    assert "`model.train()` on line 10 (`model` is `teacher` there)" in finding.message


EXECUTORS = """\
import torch


class EarlyStopping:
    def __init__(self, patience=3, save_path="best.pth"):
        self.patience = patience
        self.save_path = save_path
        self.best = float("inf")

    def __call__(self, val_loss, model):
        if val_loss < self.best:
            self.best = val_loss
            torch.save(model.state_dict(), self.save_path)


class EvalOnStop(EarlyStopping):
    def __call__(self, val_loss, model):
        model.eval()


def train_model(model, loader, criterion, optimizer, epochs, early_stopping=None):
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
        if early_stopping is not None:
            early_stopping(0.0, model)
"""

PLANTS = """\
import torch
import torch.nn as nn
import torchvision
from executors.train import {stopper}, train_model

config = {{"resnet": True, "mobilenet": True}}
if config["resnet"]:
    model = torchvision.models.resnet50(weights="IMAGENET1K_V1")
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, 38)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    early_stopping = {stopper}(patience=4)
    train_model(model, [], nn.CrossEntropyLoss(), optimizer, epochs=5, early_stopping=early_stopping)
if config["mobilenet"]:
    model = torchvision.models.mobilenet_v2(weights="IMAGENET1K_V1")
    early_stopping = {stopper}(patience=4)
"""


def test_an_early_stopping_callback_that_never_evaluates_leaves_the_model_in_train_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"executors/train.py": EXECUTORS, "main.py": PLANTS.format(stopper="EarlyStopping")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 10)
    assert "`model.train()` in `train_model` (executors/train.py:23), called on line 14" in finding.message


def test_a_callback_that_puts_the_model_in_eval_is_trusted(tmp_path: Path) -> None:
    write_project(tmp_path, {"executors/train.py": EXECUTORS, "main.py": PLANTS.format(stopper="EvalOnStop")})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


EXTRACTOR = """\
import torch
from torch import nn


class FeatureExtractor(nn.Module):
    def __init__(self, model, layer_name):
        super().__init__()
        self.model = model
        self.features = None
        dict(self.model.named_modules())[layer_name].register_forward_hook(self.save)

    def save(self, module, inputs, output):
        self.features = output

    def forward(self, x):
        self.model(x)
        return torch.flatten(self.features, 1)
"""

FOODNET = """\
from torch import nn
from torchvision.models import alexnet, googlenet, resnet50

from feature_extractors import FeatureExtractor


class FoodNet(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        alex = alexnet(weights=None)
        {backbone} = {builder}(weights=None)
        for param in alex.parameters():
            param.requires_grad = False
        for param in {backbone}.parameters():
            param.requires_grad = False
        self.alex = FeatureExtractor(alex, "classifier.5")
        self.{backbone} = FeatureExtractor({backbone}, "avgpool")
        self.classifier = nn.Linear(4096 + 2048, num_classes)
"""

ENGINE = """\
def train(model, loader, loss_fn, optimizer, epochs):
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
"""

FOOD_SCRIPT = """\
import torch
from torch import nn
from engine import train
from foodnet import FoodNet

model = FoodNet(num_classes=101)
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-4)
train(model, [], nn.CrossEntropyLoss(), optimizer, epochs=5)
"""


def test_local_backbones_frozen_in_init_and_kept_in_a_wrapper_module(tmp_path: Path) -> None:
    write_project(tmp_path, {"feature_extractors.py": EXTRACTOR, "engine.py": ENGINE, "main.py": FOOD_SCRIPT,
                             "foodnet.py": FOODNET.format(backbone="resnet", builder="resnet50")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 6)
    assert "`model.resnet` has BatchNorm layers and `FoodNet` (foodnet.py:14)" in finding.message


def test_a_wrapped_backbone_without_batchnorm_is_not_reported(tmp_path: Path) -> None:
    # AlexNet has no BatchNorm either: nothing drifts
    write_project(tmp_path, {"feature_extractors.py": EXTRACTOR, "engine.py": ENGINE, "main.py": FOOD_SCRIPT,
                             "foodnet.py": FOODNET.format(backbone="alex2", builder="alexnet")})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


def test_a_teacher_trained_by_an_imported_helper_before_it_is_frozen_is_not_reported(tmp_path: Path) -> None:
    helpers = DISTIL.split("def run_fold")[0]
    ablate = ("import torchvision\nfrom kd import distill, train_supervised\n\n\ndef run_fold(loader):\n"
              "    teacher = torchvision.models.resnet50(weights=None)\n{order}\n"
              "    student = torchvision.models.resnet18(weights=None)\n    return distill(student, teacher, loader, 10)\n")
    write_project(tmp_path, {"kd.py": helpers, "ablate.py": ablate.format(order=TRAIN_THEN_FREEZE)})
    assert lint_in_process(tmp_path / "ablate.py", "GL406") == []
    write_project(tmp_path, {"ablate.py": ablate.format(order=FREEZE_THEN_TRAIN)})
    [finding] = lint_in_process(tmp_path / "ablate.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 8)
    assert "`model.train()` in `train_supervised` (kd.py:10), called on line 9 with `teacher`" in finding.message
