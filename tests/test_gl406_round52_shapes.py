"""GL406 on held-out round 52 (``bench/heldout/round52``), in our own words: fine-tuning
scripts of chest X-ray and ultrasound classifiers and distillation students.

- a backbone frozen for the first stage of two, whose epochs are written as ``n_epoch =
  (100, 100)`` and read as ``range(n_epoch[0])``;
- the recipe "freeze all, then train the children from a named one on" (``if name ==
  unfreeze_from: unfreeze = True``), and a second factory of the same file whose own model
  is not made trainable again by the first one's loop;
- a teacher built by a project class of another file that never sets a mode, run in the
  training loop and never put in eval mode;
- a class that freezes its encoder under a constructor flag that the script sets off."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

TWO_STAGES = """\
import torch
import torch.nn as nn
from torchvision import models


def build(n):
    net = models.resnet50()
    for p in net.parameters():
        p.requires_grad = False
    net.fc = nn.Linear(2048, n)
    return net


def train(loader, model, opt):
    model.train()
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def main(loader):
    n_epoch = ({first}, 30)
    model = build(4)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    for t in range(n_epoch[0]):
        train(loader, model, opt)
    for p in model.parameters():
        p.requires_grad = True
    opt = torch.optim.Adam(model.parameters(), lr=1e-5)
    for t in range(n_epoch[1]):
        train(loader, model, opt)
"""


def test_a_long_first_stage_counted_by_a_tuple_element_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"stages.py": TWO_STAGES.format(first=100)})
    [finding] = lint_in_process(tmp_path / "stages.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 25)
    assert "frozen for the epochs before line 29 makes it trainable again" in finding.message


def test_a_short_first_stage_counted_by_a_tuple_element_is_a_warm_up(tmp_path: Path) -> None:
    write_project(tmp_path, {"stages.py": TWO_STAGES.format(first=3)})
    assert lint_in_process(tmp_path / "stages.py", "GL406") == []


FACTORIES = """\
import torch.nn as nn
from torchvision import models


def build_resnet(unfreeze_from, n):
    model = models.resnet50()
    model.fc = nn.Linear(model.fc.in_features, n)
    for p in model.parameters():
        p.requires_grad = False
    unfreeze = False
    for name, module in model.named_children():
        if name == unfreeze_from:
            unfreeze = True
        if unfreeze:
            for p in module.parameters():
                p.requires_grad = True
    return model


def build_efficientnet(last_blocks, n):
    model = models.efficientnet_b1()
    model.classifier[1] = nn.Linear(1280, n)
    for p in model.parameters():
        p.requires_grad = False
    for block in model.features[-last_blocks:]:
        for p in block.parameters():
            p.requires_grad = True
    for p in model.classifier.parameters():
        p.requires_grad = True
    return model
"""

FIT = """\
import torch
from factories import {factory}


def fit(model, loader, opt):
    model.train()
    for x, y in loader:
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


model = {factory}({argument}, 14)
opt = torch.optim.AdamW(filter(lambda p: p.requires_grad, model.parameters()))
for epoch in range(40):
    fit(model, [], opt)
"""


@pytest.mark.parametrize("factory, argument, line", [
    # the children from layer3 on train again: the stem and layer1-2 stay frozen
    ("build_resnet", '"layer3"', 8),
    # (``model`` of build_resnet's children loop is not build_efficientnet's ``model``)
    ("build_efficientnet", "3", 23),
])
def test_a_factory_training_its_late_stages_again_leaves_the_stem_frozen(tmp_path: Path, factory: str, argument: str,
                                                                          line: int) -> None:
    write_project(tmp_path, {"factories.py": FACTORIES, "train.py": FIT.format(factory=factory, argument=argument)})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 14)
    assert f"`{factory}` (factories.py:{line}) returns it with its parameters frozen" in finding.message


def test_the_named_child_loop_says_which_children_train_again(tmp_path: Path) -> None:
    source = FACTORIES + FIT.split("\n\n\n", 1)[1].format(factory="build_resnet", argument='"layer3"').replace(
        "model = build_resnet", "def fit(model, loader, opt):\n    model.train()\n    for x, y in loader:\n"
        "        opt.zero_grad()\n        model(x).sum().backward()\n        opt.step()\n\n\nmodel = build_resnet")
    write_project(tmp_path, {"one.py": source})
    [finding] = lint_in_process(tmp_path / "one.py", "GL406")
    assert "(the children of `model` from a named one on trainable again; the rest stays frozen)" in finding.message


def test_children_switched_on_and_off_again_are_not_read_as_a_later_run(tmp_path: Path) -> None:
    # (``unfreeze = name == "layer4"`` turns the flag back off: which children train is not known)
    source = FACTORIES.replace("            unfreeze = True", "            unfreeze = True\n        else:\n"
                               "            unfreeze = False")
    write_project(tmp_path, {"factories.py": source, "train.py": FIT.format(factory="build_resnet", argument='"layer3"')})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


TEACHER_MODULE = """\
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return self.bn(self.conv(x)).relu()


class Teacher(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 16, 3), Block(16), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(self.body(x)){extra}
"""

DISTIL = """\
import torch
import torch.nn as nn
from teacher import Teacher

teacher = Teacher()
teacher.load_state_dict(torch.load("teacher.pt"))
teacher = teacher.to("cpu")
student = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
opt = torch.optim.SGD(student.parameters(), lr=0.01)
for epoch in range(50):
    student.train()
    for x, y in []:
        with torch.no_grad():
            soft = teacher(x)
        out = student(x)
        loss = nn.functional.kl_div(out.log_softmax(1), soft.softmax(1), reduction="batchmean")
        opt.zero_grad()
        loss.backward()
        opt.step()
"""


def test_a_teacher_of_a_project_class_that_never_sets_a_mode_runs_in_train_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"teacher.py": TEACHER_MODULE.format(extra=""), "distil.py": DISTIL})
    [finding] = lint_in_process(tmp_path / "distil.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 14)
    assert "`teacher` has BatchNorm layers and it runs under torch.no_grad() here" in finding.message
    assert "nothing puts it in eval mode" in finding.message


def test_a_teacher_class_that_sets_its_own_mode_is_left_alone(tmp_path: Path) -> None:
    extra = "\n\n    def load(self, path):\n        self.eval()\n        return self"
    write_project(tmp_path, {"teacher.py": TEACHER_MODULE.format(extra=extra), "distil.py": DISTIL})
    assert lint_in_process(tmp_path / "distil.py", "GL406") == []


FLAGGED_CLASS = """\
import torch
import torch.nn as nn
from torchvision import models


class Transfer(nn.Module):
    def __init__(self, n=2, freeze_encoder=False):
        super().__init__()
        self.encoder = models.mobilenet_v2().features
        if freeze_encoder:
            for p in self.encoder.parameters():
                p.requires_grad = False
        self.head = nn.Linear(1280, n)

    def forward(self, x):
        return self.head(self.encoder(x).mean((2, 3)))


def train_epoch(model, loader, opt):
    model.train()
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def main():
    freeze_encoder = {flag}
    model = Transfer(n=2, freeze_encoder=freeze_encoder)
    opt = torch.optim.Adam(model.parameters())
    for epoch in range(15):
        train_epoch(model, [], opt)
"""


def test_a_constructor_flag_the_script_sets_off_freezes_nothing(tmp_path: Path) -> None:
    write_project(tmp_path, {"transfer.py": FLAGGED_CLASS.format(flag="False")})
    assert lint_in_process(tmp_path / "transfer.py", "GL406") == []


def test_a_constructor_flag_the_script_sets_on_freezes_the_encoder(tmp_path: Path) -> None:
    write_project(tmp_path, {"transfer.py": FLAGGED_CLASS.format(flag="True")})
    [finding] = lint_in_process(tmp_path / "transfer.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 12)
    assert "`model.encoder` has BatchNorm layers" in finding.message


PRUNE_AND_RETRAIN = """\
import copy
import torch
from torchvision import models


def retrain(model, loader):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for x, y in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x)["out"], y).backward()
        opt.step()
    return model


def score(model, loader):
    with torch.no_grad():
        for x, y in loader:
            out = model(x)["out"]
    return out


model = models.segmentation.fcn_resnet50(num_classes=21)
for threshold in [0.01, 0.1]:
    pruned = copy.deepcopy(model)
    pruned = retrain(pruned, [])
    score(pruned, [])
"""


def test_a_model_a_helper_trains_is_not_frozen_by_an_evaluation_under_no_grad(tmp_path: Path) -> None:
    # (``score`` evaluates in train mode, but nothing here is frozen: ``retrain`` steps the model)
    write_project(tmp_path, {"prune.py": PRUNE_AND_RETRAIN})
    assert lint_in_process(tmp_path / "prune.py", "GL406") == []


# round 45/b (CECNL, EEG distillation): the teacher is picked by name from a dict of classes the
# ``models`` package defines, and a training helper of another module freezes it and puts it in
# train mode itself
MODELS_PACKAGE = """\
from .convnets import DeepNet, ShallowNet

model_dict = {
    "DeepNet": DeepNet,
    "ShallowNet": ShallowNet,
}
"""

CONVNETS = """\
import torch.nn as nn


class DeepNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ELU(), nn.Flatten(), nn.LazyLinear(4))

    def forward(self, x):
        return self.body(x)


class ShallowNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ELU(), nn.Flatten(), nn.LazyLinear(4))

    def forward(self, x):
        return self.body(x)
"""

KD_LOOPS = """\
import torch


def train_kd(net, teacher, loader):
    teacher.train()
    for p in teacher.parameters():
        p.requires_grad = False
    optimizer = torch.optim.Adam(net.parameters())
    for x, y in loader:
        soft = teacher(x)
        loss = torch.nn.functional.mse_loss(net(x), soft)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""

KD_SCRIPT = """\
import argparse
from models import model_dict
from loops import train_kd

parser = argparse.ArgumentParser()
parser.add_argument("--teacher", default="{teacher}")
opt = parser.parse_args()
net = model_dict["ShallowNet"]()
teacher = model_dict[opt.teacher]()
train_kd(net, teacher, [])
"""


@pytest.mark.parametrize("teacher, reported", [("DeepNet", True), ("ShallowNet", False)])
def test_a_teacher_picked_from_an_imported_table_of_classes(tmp_path: Path, teacher: str, reported: bool) -> None:
    write_project(tmp_path, {"models/__init__.py": MODELS_PACKAGE, "models/convnets.py": CONVNETS,
                             "loops.py": KD_LOOPS, "distil.py": KD_SCRIPT.format(teacher=teacher)})
    findings = lint_in_process(tmp_path / "distil.py", "GL406")
    assert [(f.code, f.line) for f in findings] == ([("GL406", 10)] if reported else [])
    if reported:
        assert "`teacher` has BatchNorm layers and `train_kd` (loops.py:6) freezes its parameters" in findings[0].message


# round 54/a (pritmehta, a look-alike reported): a head-only run, then a separate fine-tuning
# run: a second model of the same builder loads the first run's checkpoint and trains whole
WARM_UP_RUN = """\
import torch
from torchvision import models


def get_model(pretrained=True):
    model = models.mobilenet_v2(weights=None)
    for p in model.features.parameters():
        p.requires_grad = False
    model.classifier[1] = torch.nn.Linear(1280, 1)
    return model


def fit(model, optimizer, epochs):
    for epoch in range(epochs):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
            optimizer.step()
    torch.save(model.state_dict(), "head.pt")


initial = get_model()
fit(initial, torch.optim.Adam(initial.classifier.parameters()), 20)
finetuned = get_model(pretrained=False)
{load}
for p in finetuned.parameters():
    p.requires_grad = True
fit(finetuned, torch.optim.Adam(finetuned.parameters(), lr=1e-5), 10)
"""


def test_a_head_only_run_whose_checkpoint_a_second_model_fine_tunes_is_a_warm_up(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": WARM_UP_RUN.format(load='finetuned.load_state_dict(torch.load("head.pt"))')})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_second_model_trained_from_scratch_leaves_the_first_run_a_finding(tmp_path: Path) -> None:
    # (no checkpoint carried over: two experiments, the first one a frozen backbone in train mode)
    write_project(tmp_path, {"train.py": WARM_UP_RUN.format(load="")})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 23)]
