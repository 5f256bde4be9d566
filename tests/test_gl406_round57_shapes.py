"""GL406 on held-out round 57 (``bench/heldout/round57``), in our own words: a frozen
perceptual-loss network built by a dispatcher that imports each network in the arm of its
name, next to a trained network from the same dispatcher (round 57/b, a flow-synthesis
project); a trained network whose parameters reach the optimiser through named param groups;
a generator sampled under ``no_grad`` as an alias, put in eval mode on the same line (round
57/c, a conditional GAN)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

FEATURE_LOSS = """\
import torch.nn as nn
from torchvision import models


class FeatureLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*list(models.resnet18().children())[:-2])
        for param in self.features.parameters():
            param.requires_grad = False
        self.mse = nn.MSELoss()

    def forward(self, output, target):
        return self.mse(self.features(output), self.features(target))
"""

FACTORY = """\
import torch.nn as nn


def get_network(net_name):
    if net_name == "flow":
        net = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3))
    elif net_name == "feature_loss":
        from models.feature_loss import FeatureLoss
        net = FeatureLoss()
    net = nn.DataParallel(net)
    return net
"""

LOSSES = """\
def perceptual(output, target, feature_loss):
    return feature_loss(output, target).mean()
"""

TRAIN = """\
import torch
from net_factory import get_network
from losses import perceptual

flow = get_network("flow")
feature_loss = get_network("feature_loss")
sigma = torch.ones(1, requires_grad=True)
flow_params = list(flow.parameters())
optim = torch.optim.Adam([{"params": [sigma], "lr": 1e-3}, {"params": flow_params}], lr=1e-4)
for epoch in range(50):
    flow.train()
    for source, target in []:
        loss = perceptual(flow(source) * sigma, target, feature_loss)
        optim.zero_grad()
        loss.backward()
        optim.step()
    with torch.no_grad():
        for source, target in []:
            print(flow(source).mean())
"""


def _project(tmp_path: Path, train: str = TRAIN, factory: str = FACTORY) -> Path:
    write_project(tmp_path, {"models/__init__.py": "", "models/feature_loss.py": FEATURE_LOSS,
                             "net_factory.py": factory, "losses.py": LOSSES, "train.py": train})
    return tmp_path / "train.py"


def test_the_frozen_network_a_dispatcher_builds_by_name_is_found_and_the_trained_one_is_not(tmp_path: Path) -> None:
    [finding] = lint_in_process(_project(tmp_path), "GL406")
    assert finding.line == 6  # ``feature_loss = get_network("feature_loss")``
    assert "`feature_loss.features` has BatchNorm layers and `get_network` (net_factory.py:9" in finding.message


def test_a_network_the_dispatcher_builds_under_another_name_is_not_frozen(tmp_path: Path) -> None:
    # (the import at the top of the dispatcher's module: the arm, not the import, decides)
    factory = "from models.feature_loss import FeatureLoss\n" + FACTORY.replace(
        "        from models.feature_loss import FeatureLoss\n", "")
    [finding] = lint_in_process(_project(tmp_path, factory=factory), "GL406")
    assert finding.line == 6 and "`feature_loss.features`" in finding.message


SAMPLES = """\
import torch
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))

    def forward(self, z):
        return self.net(z)


def train(world_size, epochs, fixed_noise):
    generator = Generator()
    opt = torch.optim.Adam(generator.parameters())
    for epoch in range(epochs):
        for z in []:
            loss = generator(z).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            g_eval = generator.module if world_size > 1 else generator
            {sample}
            print(samples.shape); g_eval.train()
"""


def test_a_generator_put_in_eval_mode_first_on_the_same_line_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"gan.py": SAMPLES.replace(
        "{sample}", "g_eval.eval(); samples = g_eval(fixed_noise).detach()")})
    assert lint_in_process(tmp_path / "gan.py", "GL406") == []


def test_a_generator_sampled_as_an_alias_is_the_optimised_generator(tmp_path: Path) -> None:
    write_project(tmp_path, {"gan.py": SAMPLES.replace("{sample}", "samples = g_eval(fixed_noise).detach()")})
    assert lint_in_process(tmp_path / "gan.py", "GL406") == []


def test_the_owners_of_named_param_groups_are_read() -> None:
    import ast

    from gradlint.source.parameter_owners import optimiser_owners

    tree = ast.parse("param1 = list(af_plus.parameters())\nparam2 = [sigma]\n"
                     "optim = torch.optim.Adam([{'params': param2, 'lr': 0.001}, {'params': param1}], lr=1e-4)\n")
    call = tree.body[2].value
    assert isinstance(call, ast.Call)
    assert optimiser_owners(call, tree) == {"af_plus"}
