"""GL406 for a network no optimiser of the file takes, handed to a training class of the
project that runs it every batch and never sets its mode: held-out round 73/b's
model-stealing script (a victim encoder queried by the stealing trainer); the case is our own."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

STEALER = """\
import torch


class Stealer:
    def __init__(self, victim=None, **kwargs):
        self.model = kwargs["model"]
        self.optimizer = kwargs["optimizer"]
        if victim is not None:
            self.victim = victim.to("cpu")

    def steal(self, loader, epochs):
        for epoch in range(epochs):
            for images, _ in loader:
                answers = self.victim(images)
                loss = torch.nn.functional.mse_loss(self.model(images), answers.detach())
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
"""

STEAL = """\
import torch
import torchvision
from stealer import Stealer

victim = torchvision.models.resnet18(weights="DEFAULT"){evaluated}
copy = torchvision.models.resnet18(num_classes=1000)
optimizer = {optimizer}
Stealer(victim=victim, model=copy, optimizer=optimizer).steal([], 100)
"""

OWN = "torch.optim.Adam(copy.parameters(), lr=3e-4)"


def test_a_victim_handed_to_a_training_class_that_queries_it_is_reported_where_built(tmp_path: Path) -> None:
    write_project(tmp_path, {"stealer.py": STEALER, "steal.py": STEAL.format(evaluated="", optimizer=OWN)})
    [finding] = lint_in_process(tmp_path / "steal.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 5)
    assert finding.message.startswith("`victim` has BatchNorm layers and no optimiser of the file takes its parameters, "
                                      "but nothing puts it in eval mode")
    assert "handing it on line 8 to `Stealer` (stealer.py:14), which runs it" in finding.message


def test_a_victim_in_eval_mode_or_optimised_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "stealer.py": STEALER,
        "evaluated.py": STEAL.format(evaluated=".eval()", optimizer=OWN),
        "optimised.py": STEAL.format(evaluated="", optimizer="torch.optim.Adam(list(copy.parameters()) + "
                                                             "list(victim.parameters()))"),
        "unknown.py": STEAL.format(evaluated="", optimizer="make_optimizer(copy, victim)"),
    })
    for script in ("evaluated.py", "optimised.py", "unknown.py"):
        assert lint_in_process(tmp_path / script, "GL406") == [], script


def test_a_training_class_that_builds_its_own_optimiser_trains_what_it_is_handed(tmp_path: Path) -> None:
    own_optimiser = STEALER.replace('self.optimizer = kwargs["optimizer"]',
                                    'self.optimizer = torch.optim.SGD(victim.parameters(), lr=0.1)')
    write_project(tmp_path, {"stealer.py": own_optimiser, "steal.py": STEAL.format(evaluated="", optimizer=OWN)})
    assert lint_in_process(tmp_path / "steal.py", "GL406") == []


def test_a_momentum_target_the_training_class_updates_is_not_reported(tmp_path: Path) -> None:
    # (round 76/b's look-alike, sthalles' BYOL: the trainer moves the target towards the online network)
    momentum = STEALER.replace("    def steal(self, loader, epochs):", """\
    def update_victim(self):
        for online, target in zip(self.model.parameters(), self.victim.parameters()):
            target.data = 0.99 * target.data + 0.01 * online.data

    def steal(self, loader, epochs):""")
    write_project(tmp_path, {"stealer.py": momentum, "steal.py": STEAL.format(evaluated="", optimizer=OWN)})
    assert lint_in_process(tmp_path / "steal.py", "GL406") == []
