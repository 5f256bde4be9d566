"""GL406 shapes from held-out round 22 (real code, ``bench/heldout/round22``).

- a ``named_parameters()`` loop that sets every parameter again (frozen or trainable by a
  test on the name) ends an earlier freeze: the earlier one was a warm-up phase
  (Guoludie666's Faster R-CNN, whose 5-epoch warm-up was reported); the blocks it keeps
  frozen are a freeze of their own;
- a class deriving from a torchvision model class (``class Net(models.Inception3)``) has
  BatchNorm, also through the project classes that build it (Arun-kr630's captioner);
- a part of a model built from a project class of another module that never switches a
  mode is in train mode since it was built, like a model the file builds itself.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

PHASES = """\
import torch
from torch import nn
from torchvision import models

model = models.mobilenet_v2(weights=None)
for p in model.features.parameters():
    p.requires_grad = False
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
for epoch in range(5):
    model.train()
    for x, y in []:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
for name, p in model.features.named_parameters():
{second}
opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.001)
for epoch in range(20):
    model.train()
    for x, y in []:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
"""

REDECIDED = """\
    block = name.split(".")[0]
    if block in ["0", "1", "2", "3"]:
        p.requires_grad = False
    else:
        p.requires_grad = True"""

REOPENED = """\
    if name in trainable_names:
        p.requires_grad = True"""


def test_a_loop_setting_every_parameter_again_ends_the_warm_up_freeze(tmp_path: Path) -> None:
    write_project(tmp_path, {"warm_up.py": PHASES.format(second=REDECIDED),
                             "reopened.py": "trainable_names = set()\n" + PHASES.format(second=REOPENED)})
    # the 5-epoch warm-up freeze of line 7 is over once every parameter is set again; the blocks the second
    # loop keeps frozen for the 20-epoch second stage are reported there (round 22/a's row, round 77/a's too)
    [kept_blocks] = lint_in_process(tmp_path / "warm_up.py", "GL406")
    assert (kept_blocks.code, kept_blocks.line) == ("GL406", 18)
    assert "the parameters of its `0`, `1`, `2`, `3` are frozen here" in kept_blocks.message
    # making some parameters trainable by a test it cannot read leaves the others frozen
    [kept] = lint_in_process(tmp_path / "reopened.py", "GL406")
    assert (kept.code, kept.line) == ("GL406", 8)
    assert kept.message.startswith("`model.features` has BatchNorm layers")


CAPTIONER = """\
import torch.nn as nn
import torchvision.models as models


class Inception(models.Inception3):
    def __init__(self, size):
        super().__init__(num_classes=size, aux_logits=False)


class Encoder(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.cnn = Inception(size)

    def forward(self, images):
        return self.cnn(images).relu()


class Captioner(nn.Module):
    def __init__(self, size, vocab):
        super().__init__()
        self.encoder = Encoder(size)
        self.decoder = nn.LSTM(size, vocab)

    def forward(self, images):
        return self.decoder(self.encoder(images).unsqueeze(0))[0]
{extra}"""

CAPTION_SCRIPT = """\
import torch
from torch import nn

from captioner import Captioner


def train():
    model = Captioner(256, 1000)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    for name, param in model.encoder.cnn.named_parameters():
        if "fc.weight" in name or "fc.bias" in name:
            param.requires_grad = True
        else:
            param.requires_grad = False
    for epoch in range(50):
        for images, captions in []:
            loss = nn.functional.mse_loss(model(images), captions)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


train()
"""

SAMPLER = """
    def sample(self, images):
        self.eval()
        return self(images)
"""


def test_a_frozen_part_of_a_project_class_that_never_switches_a_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"captioner.py": CAPTIONER.format(extra=""), "train.py": CAPTION_SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 14)
    assert finding.message.startswith("`model.encoder.cnn` has BatchNorm layers and its parameters are frozen here "
                                      "(`model.encoder.cnn.fc` trainable again; the rest stays frozen), "
                                      "but nothing puts it in eval mode")
    assert "running it on line 17 in the training loop" in finding.message


def test_a_project_module_that_switches_a_mode_may_keep_it_in_eval(tmp_path: Path) -> None:
    write_project(tmp_path, {"captioner.py": CAPTIONER.format(extra=SAMPLER), "train.py": CAPTION_SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


SUBCLASS = """\
import torch
from torch import nn
from torchvision import models
from torchvision.models.resnet import Bottleneck


class Backbone(models.ResNet):
    def __init__(self):
        super().__init__(Bottleneck, [3, 4, 6, 3])


model = Backbone()
model.fc = nn.Linear(2048, 10)
for p in model.parameters():
    p.requires_grad = False
for p in model.fc.parameters():
    p.requires_grad = True
optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)
for epoch in range(10):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_class_of_the_file_deriving_from_a_torchvision_model_class_has_batchnorm(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": SUBCLASS})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 15)
    assert "`model.train()` on line 20 puts it back in train mode" in finding.message


DISTILLER = """\
import timm
import torch
import torch.nn.functional as F
from torch import nn


class Distiller(nn.Module):
    def __init__(self, student, teacher):
        super().__init__()
        self.student = student
        self.teacher = teacher

    def train(self, mode=True):
        self.training = mode
        for module in self.children():
            module.train(mode)
        self.teacher.eval()
        return self


class LogitKD(Distiller):
    def __init__(self, student, teacher):
        super().__init__(student, teacher)
        self.temperature = 4.0

    def forward_train(self, x, y):
        logits = self.student(x)
        with torch.no_grad():
            soft = self.teacher(x)
        return F.cross_entropy(logits, y) + F.kl_div(F.log_softmax(logits / 4, 1), F.softmax(soft / 4, 1))


teacher = timm.create_model("resnet50", pretrained=True)
student = timm.create_model("mobilenetv2_100", num_classes=100)
distiller = LogitKD(student, teacher)
optimizer = torch.optim.Adam(distiller.parameters(), lr=1e-3)


def fit(loader, epochs):
    {switch}
    for epoch in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = distiller.forward_train(x, y)
            loss.backward()
            optimizer.step()
"""


def test_a_distiller_whose_train_override_never_runs_leaves_its_teacher_in_train_mode(tmp_path: Path) -> None:
    """metastacy's decoupled distillation (round 22): only the student is switched to train
    mode; the distiller's override that would put the teacher in eval mode never runs."""
    write_project(tmp_path, {"student_only.py": DISTILLER.format(switch="student.train()"),
                             "override_runs.py": DISTILLER.format(switch="distiller.train()")})
    [finding] = lint_in_process(tmp_path / "student_only.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 29)
    assert finding.message.startswith("`distiller.teacher` has BatchNorm layers and it only ever runs under "
                                      "torch.no_grad(), here, so its parameters get no gradient, but nothing puts it "
                                      "in eval mode")
    assert "running it on line 44 in the training loop" in finding.message
    assert lint_in_process(tmp_path / "override_runs.py", "GL406") == []
