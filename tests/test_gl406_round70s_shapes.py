"""GL406 shapes of the synthetic held-out round 70s (``bench/heldout/round70s``), in our own
words: a BYOL target network moved by a moving average written as a loop over pairs of
modules (a look-alike the first run reported)."""

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
        def __init__(self, tau=0.996):
            super().__init__()
            self.online = torchvision.models.resnet18()
            self.online.fc = nn.Identity()
            self.head = nn.Sequential(nn.Linear(512, 1024), nn.BatchNorm1d(1024), nn.ReLU(), nn.Linear(1024, 128))
            self.target = copy.deepcopy(self.online)
            self.target_head = copy.deepcopy(self.head)
            for p in list(self.target.parameters()) + list(self.target_head.parameters()):
                p.requires_grad = False
            self.tau = tau

        @torch.no_grad()
        def update_target(self):
            for online, target in ((self.online, self.target), (self.head, self.target_head)):
                for po, pt in zip(online.parameters(), target.parameters()):
                    {update}

        def forward(self, a, b):
            p = self.head(self.online(a))
            with torch.no_grad():
                z = self.target_head(self.target(b))
            return (2 - 2 * nn.functional.cosine_similarity(p, z)).mean()


    def main(loader, epochs=100):
        model = BYOL()
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.3)
        for epoch in range(epochs):
            model.train()
            for a, b in loader:
                loss = model(a, b)
                opt.zero_grad()
                loss.backward()
                opt.step()
                model.update_target()
"""


@pytest.mark.parametrize(("update", "expected"), [
    ("pt.mul_(self.tau).add_(po.detach(), alpha=1 - self.tau)", []),
    ("pass", [("GL406", 17)]),
])
def test_a_target_network_moved_through_a_loop_over_module_pairs(tmp_path: Path, update: str, expected: list) -> None:
    write_project(tmp_path, {"byol.py": BYOL.format(update=update)})
    findings = lint_in_process(tmp_path / "byol.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
