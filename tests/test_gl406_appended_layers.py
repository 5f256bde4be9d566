"""GL406: a perceptual loss keeping slices of a BatchNorm network in a ``ModuleList`` it
fills with ``append`` (the synthetic held-out round 21s, srgan-perceptual: VGG-16-BN
blocks, frozen, never put in eval mode while the generator trains)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

LOSSES = """\
import torch
import torchvision
from torch import nn


class BlockLoss(nn.Module):
    def __init__(self, cuts=(12, 22, 32)):
        super().__init__()
        layers = torchvision.models.{arch}(weights=None).features
        self.blocks = nn.ModuleList()
        start = 0
        for cut in cuts:
            self.blocks.append(layers[start:cut])
            start = cut
        for p in self.blocks.parameters():
            p.requires_grad = False

    def forward(self, x, y):
        total = 0.0
        for block in self.blocks:
            x, y = block(x), block(y)
            total = total + nn.functional.l1_loss(x, y)
        return total
"""

SCRIPT = """\
import torch
from torch import nn

from losses import BlockLoss

net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1))
perceptual = BlockLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=2e-4)
for epoch in range(10):
    net.train()
    for gray, color in []:
        out = net(gray)
        loss = nn.functional.l1_loss(out, color) + 0.1 * perceptual(out, color)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""


def test_slices_of_a_batchnorm_network_appended_to_a_module_list(tmp_path: Path) -> None:
    write_project(tmp_path, {"losses.py": LOSSES.format(arch="vgg16_bn"), "train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert finding.message.startswith("`perceptual.blocks` has BatchNorm layers and `BlockLoss` (losses.py:15) returns "
                                      "it with its parameters frozen, but nothing puts it in eval mode")


def test_the_same_slices_of_a_network_without_batchnorm_are_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"losses.py": LOSSES.format(arch="vgg16"), "train.py": SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
