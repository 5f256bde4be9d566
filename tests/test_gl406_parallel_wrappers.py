"""GL406 through data-parallel wrappers (held-out round 49/b, a distillation project whose
ImageNet script builds the teacher in ``main``'s arms, wraps it in ``nn.DataParallel`` under
its own name, keeps it in a distiller wrapped alike, and calls ``d_net.module.t_net.train()``
each epoch). Written in our own words."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

RESNET = """\
import torch.nn as nn


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn1 = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn1(self.conv(x))


def resnet50(pretrained=False):
    return ResNet()


def resnet152(pretrained=False):
    return ResNet()
"""

DEFAULT_MODE = """\
import torch
import models.ResNet as ResNet

teacher = ResNet.resnet50(pretrained=True)
teacher = torch.nn.DataParallel(teacher).cuda()
student = torch.nn.Linear(8, 2)
optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
for x, y in []:
    with torch.no_grad():
        target = teacher(x)
    loss = (student(x) - target).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""

DISTILLER = """\
import torch
import torch.nn as nn
import models.ResNet as ResNet


class Distiller(nn.Module):
    def __init__(self, t_net, s_net):
        super().__init__()
        self.t_net = t_net
        self.s_net = s_net

    def forward(self, x):
        return self.s_net(x), self.t_net(x).detach()


def main(kind):
    if kind == "small":
        t_net = ResNet.resnet50(pretrained=True)
        s_net = nn.Sequential(nn.Conv2d(3, 8, 3))
    elif kind == "large":
        t_net = ResNet.resnet152(pretrained=True)
        s_net = ResNet.resnet50()
    else:
        raise ValueError(kind)
    d_net = Distiller(t_net, s_net)
    t_net = torch.nn.DataParallel(t_net).cuda()
    s_net = torch.nn.DataParallel(s_net).cuda()
    d_net = torch.nn.DataParallel(d_net).cuda()
    optimizer = torch.optim.SGD(s_net.parameters(), lr=0.1)
    for epoch in range(100):
        train_with_distill(d_net, optimizer)


def train_with_distill(d_net, optimizer):
    d_net.train()
    d_net.module.s_net.train()
    d_net.module.t_net.train()
    for x, y in []:
        out, target = d_net(x)
        loss = (out - target).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""


def test_a_teacher_rewrapped_under_its_own_name_still_runs_in_its_default_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/ResNet.py": RESNET, "train.py": DEFAULT_MODE})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 10  # ``target = teacher(x)`` under no_grad
    assert "`teacher` has BatchNorm layers and it runs under torch.no_grad() here" in finding.message


def test_a_wrapper_named_otherwise_is_not_read_as_the_teacher(tmp_path: Path) -> None:
    # (``net = DataParallel(teacher)``: ``net.train()`` elsewhere would set the teacher's mode)
    write_project(tmp_path, {"models/ResNet.py": RESNET, "train.py": DEFAULT_MODE.replace(
        "teacher = torch.nn.DataParallel(teacher).cuda()", "net = torch.nn.DataParallel(teacher).cuda()")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_the_teacher_of_a_wrapped_distiller_put_in_train_mode_each_epoch(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/ResNet.py": RESNET, "train.py": DISTILLER})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 37  # ``d_net.module.t_net.train()``
    assert "`d_net.module.t_net` has BatchNorm layers and no optimiser of the file takes its parameters" in finding.message


def test_a_teacher_the_optimiser_takes_is_trained(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/ResNet.py": RESNET, "train.py": DISTILLER.replace(
        "torch.optim.SGD(s_net.parameters(), lr=0.1)", "torch.optim.SGD(d_net.parameters(), lr=0.1)")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


OPTIMISED_AS_ALIAS = """\
import torch
import torch.nn as nn
import models.ResNet as ResNet


def main():
    model = ResNet.resnet50(pretrained=True)
    model = model.to("cpu")
    if torch.cuda.device_count() > 1:
        model = torch.nn.DataParallel(model)
        model_without_dp = model.module
    else:
        model_without_dp = model
    optimizer = torch.optim.SGD(model_without_dp.parameters(), lr=0.1)
    for epoch in range(10):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


main()
"""


def test_a_model_optimised_under_the_name_of_its_unwrapped_self_is_trained(tmp_path: Path) -> None:
    # (round 59/b: ``model_without_dp = model.module`` in one arm, ``= model`` in the other, then
    # ``SGD(model_without_dp.parameters())``)
    write_project(tmp_path, {"models/ResNet.py": RESNET, "train.py": OPTIMISED_AS_ALIAS})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
