"""GL406 and momentum (EMA) copies kept by a class of another module: ``model = BYOL()``
whose ``update_target`` moves ``self.target`` toward ``self.online``, and only
``model.online`` optimised in the script. The target network is meant to run in train
mode (the rulings of rounds 18 and 19); the same class in the script's own file was
already read that way."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

BYOL = """\
import copy
import torch
import torch.nn as nn
import torchvision


class BYOL(nn.Module):
    def __init__(self):
        super().__init__()
        self.online = torchvision.models.resnet18(weights=None)
        self.target = copy.deepcopy(self.online)

    @torch.no_grad()
    def update_target(self, m=0.99):
        for po, pt in zip(self.online.parameters(), self.target.parameters()):
            {update}
"""

SCRIPT = """\
import torch
from byol import BYOL

model = BYOL()
opt = torch.optim.SGD(model.online.parameters(), lr=0.1)
for epoch in range(10):
    model.train()
    for a, b in []:
        loss = ((model.online(a) - model.target(b).detach()) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.update_target()
"""


@pytest.mark.parametrize("update", ["pt.data = pt.data * m + po.data * (1 - m)", "pt.mul_(m).add_(po, alpha=1 - m)"])
def test_a_momentum_copy_of_an_imported_class_is_not_a_frozen_module(tmp_path: Path, update: str) -> None:
    write_project(tmp_path, {"byol.py": BYOL.format(update=update), "main.py": SCRIPT})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


def test_a_copy_loaded_once_and_left_out_of_the_optimiser_is_still_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"byol.py": BYOL.format(update="pt.data.copy_(po.data)"), "main.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 5)
    assert "only `model.online` is optimised here" in finding.message
