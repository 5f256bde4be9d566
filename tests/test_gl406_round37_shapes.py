"""GL406 shapes from held-out round 37 (real code, ``bench/heldout/round37``): a style-transfer
script that prints the children of a torchvision ResNet-50 (``for name, module in
resnet.named_children(): print(name)``), wraps them in its own module under the same name
(``resnet = Resnet()``), freezes it and optimises an image through it with LBFGS, never
putting it in eval (round 37/c, GunhoChoi). Listing a module's children leaves its mode alone."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

STYLE = """\
import torch
import torch.nn as nn
import torchvision.models as models
from torch import optim

resnet = models.resnet50(weights=None)
for name, module in resnet.named_children():
    print(name)


class Resnet(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer0 = nn.Sequential(*list(resnet.children())[0:4])
        self.layer1 = nn.Sequential(*list(resnet.children())[4:5])

    def forward(self, x):
        out_0 = self.layer0(x)
        return out_0, self.layer1(out_0)


resnet = Resnet()
for param in resnet.parameters():
    param.requires_grad = False{kept}

content = torch.rand(1, 3, 64, 64)
content_target = resnet(content)[1]
generated = content.clone().requires_grad_(True)
optimizer = optim.LBFGS([generated])

iteration = [0]
while iteration[0] < 100:
    def closure():
        optimizer.zero_grad()
        out = resnet(generated)
        loss = nn.MSELoss()(out[1], content_target)
        loss.backward()
        iteration[0] += 1
        return loss

    optimizer.step(closure)
"""


def test_a_frozen_network_renamed_after_listing_its_children(tmp_path: Path) -> None:
    write_project(tmp_path, {"style.py": STYLE.format(kept="")})
    [finding] = lint_in_process(tmp_path / "style.py", "GL406")
    assert finding.line == 24
    assert "`resnet` has BatchNorm layers and its parameters are frozen here, but nothing puts it in eval mode" in finding.message
    assert "running it on line 35 in the training loop" in finding.message


def test_the_network_put_in_eval_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"style.py": STYLE.format(kept="\nresnet.eval()")})
    assert lint_in_process(tmp_path / "style.py", "GL406") == []
