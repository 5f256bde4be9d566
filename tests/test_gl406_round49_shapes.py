"""GL406 on held-out round 49 (``bench/heldout/round49``: course assignments freezing a VGG
encoder by strategy, distillation scripts), in our own words:

- ``if strategy == "frozen": <freeze encoder> elif strategy == "partial": <freeze blocks 1-3>``:
  two configurations, two findings (the whole encoder is not one finding with its blocks);
- the same ``model`` local of two training functions is two models;
- ``for p in list(enc.block1.parameters()) + list(enc.block2.parameters()): ...``;
- a class's ``if self.method == "last_layer": <freeze> elif self.method == "partial":
  <unfreeze some>``: the unfreeze of the other arm does not undo the first;
- an optimiser over ``model.fc`` only, with a ``requires_grad = True`` loop that reopens
  everything (a no-op for what no optimiser takes);
- a distillation function handed its teacher, whose optimiser takes the student only, that
  calls ``teacher.train()``; and a distiller wrapper whose ``d_net.t_net.train()`` puts the
  teacher (out of every optimiser) in train mode.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ENCODER = """\
import torch.nn as nn


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = block(3, 64)
        self.block2 = block(64, 128)
        self.block3 = block(128, 256)
        self.block4 = block(256, 512)

    def forward(self, x):
        return self.block4(self.block3(self.block2(self.block1(x))))


class Segmenter(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Conv2d(512, 3, 1)

    def forward(self, x):
        return self.head(self.encoder(x))
"""

STRATEGIES = """\
import torch

from nets import Segmenter


def train_seg(strategy, loader, epochs):
    model = Segmenter()
    if strategy == "frozen":
        for p in model.encoder.parameters():
            p.requires_grad = False
    elif strategy == "partial":
        for p in (list(model.encoder.block1.parameters()) + list(model.encoder.block2.parameters())
                  + list(model.encoder.block3.parameters())):
            p.requires_grad = False
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()


def train_loc(loader, epochs):
    model = Segmenter()
    for p in model.encoder.block1.parameters():
        p.requires_grad = False
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()


for strategy in ["frozen", "partial", "full"]:
    train_seg(strategy, [], 10)
train_loc([], 10)
"""


def test_each_strategy_and_each_function_is_its_own_finding(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": ENCODER, "train.py": STRATEGIES})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 10), ("GL406", 14), ("GL406", 27)]
    frozen, partial, located = findings
    assert frozen.message.startswith("`model.encoder` has BatchNorm layers and its parameters are frozen here, "
                                     "but `model.train()` on line 17 puts it back in train mode")
    assert partial.message.startswith("`model.encoder` has BatchNorm layers and `model.encoder.block1`, "
                                      "`model.encoder.block2` and `model.encoder.block3` are frozen here")
    assert located.message.startswith("`model.encoder.block1` has BatchNorm layers and its parameters are frozen here, "
                                      "but `model.train()` on line 30")


CLASS_ARMS = """\
import torch
import torch.nn as nn
from torchvision.models import resnet50


class Pretrained(nn.Module):
    def __init__(self, method="last_layer"):
        super().__init__()
        self.model = resnet50(weights=None)
        self.method = method
        self.layer_names, self.last_k = ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"], 2
        self.setup()

    def setup(self):
        if self.method == "last_layer":
            for p in self.model.parameters():
                p.requires_grad = False
            self.model.fc = nn.Linear(2048, 10)
        elif self.method == "partial":
            train_layers = self.layer_names[-self.last_k:]
            for name, p in self.model.named_parameters():
                if name in train_layers:
                    p.requires_grad = True
                else:
                    p.requires_grad = False

    def fit(self, loader):
        optimizer = torch.optim.Adam(self.model.parameters())
        for epoch in range(10):
            self.model.train()
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(self.model(x), y).backward()
                optimizer.step()
"""


def test_an_unfreeze_in_another_arm_leaves_the_first_arm_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": CLASS_ARMS})
    [finding] = lint_in_process(tmp_path / "model.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 17)
    assert finding.message.startswith("`self.model` has BatchNorm layers and its parameters are frozen here, "
                                      "but `self.model.train()` on line 30 puts it back in train mode")


ONLY_THE_HEAD = """\
import torch
import torch.nn as nn
from torchvision import models

model = models.inception_v3(weights=None, init_weights=False)
model.fc = nn.Linear(2048, 10)
for name, param in model.named_parameters():
    if "fc" in name or "Mixed_7c":
        param.requires_grad = True
    else:
        param.requires_grad = False
optimizer = torch.optim.AdamW(model.fc.parameters())
for epoch in range(5):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x).logits, y).backward()
        optimizer.step()
"""


def test_requires_grad_true_does_not_train_what_no_optimiser_takes(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": ONLY_THE_HEAD})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 12)
    assert finding.message.startswith("`model` has BatchNorm layers and only `model.fc` is optimised here")


def test_an_optimiser_over_the_whole_model_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": ONLY_THE_HEAD.replace("AdamW(model.fc.parameters())", "AdamW(model.parameters())")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


DISTILL_FUNCTION = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import resnet50, resnet18


def train_kd(model_student, model_teacher, loader, epochs):
    optimizer = torch.optim.SGD(model_student.parameters(
    ), lr=0.01)
    for epoch in range(epochs):
        model_student.train()
        model_teacher.train()
        for x, y in loader:
            optimizer.zero_grad()
            out_t = model_teacher(x)
            out_s = model_student(x)
            loss = F.kl_div(F.log_softmax(out_s, 1), F.softmax(out_t, 1)) + F.cross_entropy(out_s, y)
            loss.backward()
            optimizer.step()


teacher = resnet50(weights=None)
teacher.load_state_dict(torch.load("teacher.pt"))
student = resnet18(weights=None)
train_kd(student, teacher, [], 100)
"""


def test_a_distillation_function_putting_the_teacher_it_is_handed_in_train_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"kd.py": DISTILL_FUNCTION})
    [finding] = lint_in_process(tmp_path / "kd.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 15)
    assert finding.message.startswith("`model_teacher` has BatchNorm layers and no optimiser of the file takes its "
                                      "parameters, but `model_teacher.train()` on line 12 puts it back in train mode")


def test_the_student_handed_to_a_plain_training_function_is_not_a_teacher(tmp_path: Path) -> None:
    source = DISTILL_FUNCTION.replace("train_kd(student, teacher, [], 100)", "train_kd(student, student, [], 100)")
    write_project(tmp_path, {"kd.py": source})
    assert lint_in_process(tmp_path / "kd.py", "GL406") == []


WRAPPER = """\
import torch
import torch.nn as nn
from torchvision.models import resnet18, resnet50


class Distiller(nn.Module):
    def __init__(self, t_net, s_net):
        super().__init__()
        self.t_net = t_net
        self.s_net = s_net
        self.connector = nn.Conv2d(512, 2048, 1)

    def forward(self, x):
        return self.connector(self.s_net(x)), self.t_net(x)


t_net = resnet50(weights=None)
t_net.load_state_dict(torch.load("teacher.pt")["net"].state_dict())
s_net = resnet18(weights=None)
d_net = Distiller(t_net, s_net)
print(sum(p.numel() for p in t_net.parameters()))


def distill(d_net, loader):
    d_net.train()
    d_net.s_net.train()
    d_net.t_net.train()
    for x, y in loader:
        optimizer.zero_grad()
        s_out, t_out = d_net(x)
        (s_out - t_out.detach()).pow(2).mean().backward()
        optimizer.step()


optimizer = torch.optim.SGD([{"params": s_net.parameters()}, {"params": d_net.connector.parameters()}], lr=0.1)
for epoch in range(10):
    distill(d_net, [])
"""


def test_a_distiller_putting_its_teacher_part_in_train_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"distill.py": WRAPPER})
    [finding] = lint_in_process(tmp_path / "distill.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 27)
    assert finding.message.startswith("`d_net.t_net` has BatchNorm layers and no optimiser of the file takes its parameters")


def test_the_teacher_in_the_optimiser_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"distill.py": WRAPPER.replace('{"params": s_net.parameters()}, ',
                                                           '{"params": s_net.parameters()}, {"params": t_net.parameters()}, ')})
    assert lint_in_process(tmp_path / "distill.py", "GL406") == []


def test_a_distiller_wrapped_in_data_parallel(tmp_path: Path) -> None:
    source = WRAPPER.replace('print(sum(p.numel() for p in t_net.parameters()))',
                             'd_net = nn.DataParallel(d_net)').replace("d_net.t_net.train()", "d_net.module.t_net.train()")
    write_project(tmp_path, {"distill.py": source.replace("d_net.connector.parameters()", "d_net.module.connector.parameters()")})
    [finding] = lint_in_process(tmp_path / "distill.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 27)
    assert finding.message.startswith("`d_net.module.t_net` has BatchNorm layers and no optimiser of the file takes its")


MEAN_TEACHER = """\
import copy

import torch
import torch.nn.functional as F
from torchvision.models import resnet18


@torch.no_grad()
def update_ema(ema_model, model, decay=0.999):
    for ema_p, p in zip(ema_model.parameters(), model.parameters()):
        ema_p.mul_(decay).add_(p.detach(), alpha=1 - decay)


student = resnet18(weights=None)
ema_teacher = copy.deepcopy(student)
for p in ema_teacher.parameters():
    p.requires_grad_(False)
opt = torch.optim.SGD(student.parameters(), lr=0.05)
for epoch in range(100):
    student.train()
    ema_teacher.train()
    for x, y in []:
        s_out = student(x)
        with torch.no_grad():
            t_out = ema_teacher(x)
        loss = F.cross_entropy(s_out, y) + F.mse_loss(s_out.softmax(1), t_out.softmax(1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        {update}
"""


def test_a_mean_teacher_moved_by_a_helper_of_the_file_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"mt.py": MEAN_TEACHER.replace("{update}", "update_ema(ema_teacher, student)")})
    assert lint_in_process(tmp_path / "mt.py", "GL406") == []


def test_a_deepcopy_that_is_never_moved_is_a_frozen_copy(tmp_path: Path) -> None:
    write_project(tmp_path, {"mt.py": MEAN_TEACHER.replace("{update}", "pass")})
    [finding] = lint_in_process(tmp_path / "mt.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 17)
    assert finding.message.startswith("`ema_teacher` has BatchNorm layers and its parameters are frozen here, "
                                      "but `ema_teacher.train()` on line 21 puts it back in train mode")
