"""More cases of GL209 (gl209_scheduler_before_step.py keeps a representative set): run by the tests
with the module's own, see rules/cases/__init__.py."""

from __future__ import annotations

from gradlint.registry import Invalid, Valid

VALID = [
    Valid(  # a class of a project module that is no LRScheduler, whatever its name
        """
from utils.schedules import LinearWarmupLR

schedule = LinearWarmupLR(optimizer, warmup=500)
for x, y in loader:
    schedule.step()
    optimizer.zero_grad()
    criterion(model(x), y).backward()
    optimizer.step()
""",
        files=(
            ("utils/__init__.py", ""),
            ("utils/schedules.py", "class LinearWarmupLR:\n    def __init__(self, optimizer, warmup):\n"
                                   "        self.optimizer, self.warmup = optimizer, warmup\n"
                                   "    def step(self):\n        pass\n"),
        ),
    ),
    Valid(  # an LRScheduler of the project whose own step() sets the coming update's rate
        """
from schedules import WarmupPoly

scheduler = WarmupPoly(optimizer, warmup=0.01)
for x, y in loader:
    criterion(model(x), y).backward()
    scheduler.step()
    optimizer.step()
    optimizer.zero_grad()
""",
        files=(("schedules.py", "from torch.optim.lr_scheduler import _LRScheduler\n\nclass WarmupPoly(_LRScheduler):\n"
                "    def step(self, epoch=None):\n        self.last_epoch = self.optimizer.state_steps + 1\n"),),
    ),
    Valid(  # the generator's scheduler after the generator's step, in a GAN
        """
import torch
sched_d = torch.optim.lr_scheduler.ExponentialLR(opt_d, 0.99)
sched_g = torch.optim.lr_scheduler.ExponentialLR(opt_g, 0.99)
for real in loader:
    opt_d.zero_grad()
    d_loss(real).backward()
    opt_d.step()
    sched_d.step()
    opt_g.zero_grad()
    g_loss().backward()
    opt_g.step()
    sched_g.step()
"""
    ),
]

INVALID = [
    Invalid(  # the same, with the batch loop in a helper
        """
import torch

def train_one_epoch(model, loader, optimizer):
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    scheduler.step()
    train_one_epoch(model, loader, optimizer)
""",
        line=12,
    ),
]
