"""GL406 where the frozen network comes from a project function of another module, shapes of
the synthetic held-out round 48s (``bench/heldout/round48s/a``), in our own words:

- a distillation teacher built by ``networks.build_teacher()``, which hands
  ``torchvision.models.resnet50`` to a helper that calls it and never switches a mode;
- ``net = freeze_features(build(n)).to(device)``: a freezing helper that returns the model
  it is handed, applied to a factory's result;
- a loader that builds ``getattr(torchvision.models, arch)()`` for the ``--arch`` it is passed;
- a source network only run through one of its own methods (``source.features(x)``) under
  ``no_grad``, whose weights are copied into the trained network, and put in train mode by
  a ``for net in (source, target): net.train()`` loop before the training loop.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

NETWORKS = """\
import torch.nn as nn
import torchvision


def cifar_resnet(depth_fn, num_classes=100):
    net = depth_fn(weights=None, num_classes=num_classes)
    net.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    return net


def build_teacher(num_classes=100):
    teacher = cifar_resnet(torchvision.models.resnet50, num_classes)
    return teacher


def build_student(num_classes=100):
    return cifar_resnet(torchvision.models.resnet18, num_classes)
"""

DISTILL = """\
import torch
import torch.nn.functional as F

from networks import build_student, build_teacher

teacher = build_teacher()
student = build_student()
optimizer = torch.optim.SGD(student.parameters(), lr=0.1)
for epoch in range(10):
    student.train()
    for x, y in []:
        with torch.no_grad():
            soft = teacher(x)
        loss = F.kl_div(F.log_softmax(student(x), 1), F.softmax(soft, 1)) + F.cross_entropy(student(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""


def test_a_teacher_built_by_an_imported_function_handing_a_torchvision_builder(tmp_path: Path) -> None:
    write_project(tmp_path, {"networks.py": NETWORKS, "train.py": DISTILL})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 13)
    assert finding.message.startswith("`teacher` has BatchNorm layers and it runs under torch.no_grad() here")
    assert "nothing puts it in eval mode" in finding.message


def test_the_same_teacher_put_in_eval_mode_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"networks.py": NETWORKS,
                             "train.py": DISTILL.replace("teacher = build_teacher()", "teacher = build_teacher().eval()")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_teacher_factory_that_puts_it_in_eval_mode_is_quiet(tmp_path: Path) -> None:
    networks = NETWORKS.replace("    return teacher", "    teacher.eval()\n    return teacher")
    write_project(tmp_path, {"networks.py": networks, "train.py": DISTILL})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


HELPERS = """\
import torch.nn as nn
from torchvision import models


def mobilenet_head(num_classes):
    net = models.mobilenet_v2(weights="DEFAULT")
    net.classifier = nn.Linear(net.last_channel, num_classes)
    return net


def freeze_features(net):
    net.features.requires_grad_(False)
    net.features.eval()  # once, before a fit() that calls net.train()
    return net
"""

FIT = """\
def fit(model, loader, criterion, optimizer, epochs):
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
"""

FREEZE_ON_RESULT = """\
import torch
import torch.nn as nn

from fit import fit
from net import freeze_features, mobilenet_head

model = freeze_features(mobilenet_head(38)).to("cpu")
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
fit(model, [], nn.CrossEntropyLoss(), optimizer, 3)
"""


def test_a_freezing_helper_applied_to_a_factory_result(tmp_path: Path) -> None:
    write_project(tmp_path, {"net.py": HELPERS, "fit.py": FIT, "main.py": FREEZE_ON_RESULT})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert finding.message.startswith("`model.features` has BatchNorm layers and `freeze_features` (net.py:12) freezes")
    assert "`model.train()` in `fit` (fit.py:3)" in finding.message


def test_a_helper_that_does_not_hand_the_model_back_names_nothing(tmp_path: Path) -> None:
    helpers = HELPERS.replace("    return net\n\"\"\"", "").replace(
        "    net.features.eval()  # once, before a fit() that calls net.train()\n    return net",
        "    net.features.eval()  # once, before a fit() that calls net.train()\n    return None")
    write_project(tmp_path, {"net.py": helpers, "fit.py": FIT, "main.py": FREEZE_ON_RESULT})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


LOADER = """\
import torch.nn as nn
import torchvision


def load_encoder(path, arch="resnet50"):
    net = getattr(torchvision.models, arch)(weights=None)
    net.fc = nn.Identity()
    return net
"""

PROBE = """\
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from backbones import load_encoder


class LinearProbe(nn.Module):
    def __init__(self, backbone, dim, n):
        super().__init__()
        self.backbone = backbone
        self.backbone.requires_grad_(False)
        self.fc = nn.Linear(dim, n)

    def forward(self, x):
        return self.fc(self.backbone(x))


def run(args):
    probe = LinearProbe(load_encoder("ssl.ckpt", args.arch), 2048, 10)
    opt = torch.optim.SGD(probe.fc.parameters(), lr=0.1)
    for epoch in range(args.epochs):
        probe.train()
        for x, y in []:
            opt.zero_grad()
            F.cross_entropy(probe(x), y).backward()
            opt.step()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="{arch}")
    ap.add_argument("--epochs", type=int, default=100)
    run(ap.parse_args())
"""


def test_an_encoder_looked_up_by_the_arch_option_it_is_passed(tmp_path: Path) -> None:
    write_project(tmp_path, {"backbones.py": LOADER, "probe.py": PROBE.replace("{arch}", "resnet50")})
    [finding] = lint_in_process(tmp_path / "probe.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 14)
    assert finding.message.startswith("`probe.backbone` has BatchNorm layers and it is frozen here, but "
                                      "`probe.train()` on line 25 puts it back in train mode")


def test_an_arch_option_naming_a_model_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"backbones.py": LOADER, "probe.py": PROBE.replace("{arch}", "vit_b_16")})
    assert lint_in_process(tmp_path / "probe.py", "GL406") == []


NETS = """\
import torch.nn as nn
import torchvision


class FeatureNet(nn.Module):
    def __init__(self, n=31):
        super().__init__()
        base = torchvision.models.resnet50(weights=None)
        self.trunk = nn.Sequential(*list(base.children())[:-1])
        self.fc = nn.Linear(2048, n)

    def features(self, x):
        return self.trunk(x).flatten(1)

    def forward(self, x):
        return self.fc(self.features(x))
"""

ADAPT = """\
import torch
import torch.nn.functional as F

from nets import FeatureNet

source = FeatureNet()
target = FeatureNet()
target.load_state_dict(source.state_dict())
optimizer = torch.optim.SGD(target.parameters(), lr=1e-3)
for net in (source, target):
    net.train()
for xs, ys, xt in []:
    with torch.no_grad():
        fs = source.features(xs)
    ft = target.features(xt)
    loss = F.cross_entropy(target(xs), ys) + (fs.mean(0) - ft.mean(0)).pow(2).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""


def test_a_source_network_run_through_its_own_method(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": NETS, "adapt.py": ADAPT})
    [finding] = lint_in_process(tmp_path / "adapt.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 14)
    assert finding.message.startswith("`source` has BatchNorm layers and no optimiser of the file takes its parameters, "
                                      "but `net.train()` on line 11 (`net` is `source` there) puts it back in train mode")


def test_the_source_network_put_in_eval_after_the_loop_of_train_calls_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": NETS, "adapt.py": ADAPT.replace("    net.train()\n", "    net.train()\nsource.eval()\n")})
    assert lint_in_process(tmp_path / "adapt.py", "GL406") == []
