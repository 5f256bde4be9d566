"""GL406 on held-out round 55 (``bench/heldout/round55``), in our own words: anomaly
detection by self-supervised pretext training, whose ResNet is frozen for the first
``freeze_resnet`` steps of the loop and then unfrozen.

- the number of frozen steps is the default of a command-line option kept in a parser
  module of its own (``from opts import parse_args``), read through ``args.freeze_resnet``
  and a local alias;
- a copy of the script whose ``model.train()``/``model.eval()`` lines are commented out:
  the model never leaves the train mode it was built in."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODEL = """\
import torch.nn as nn
from torchvision.models import resnet18


class ProjectionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.resnet18 = resnet18(weights="DEFAULT")
        self.resnet18.fc = nn.Identity()
        self.out = nn.Linear(512, 2)

    def forward(self, x):
        return self.out(self.resnet18(x))

    def freeze_resnet(self):
        for p in self.resnet18.parameters():
            p.requires_grad = False

    def unfreeze(self):
        for p in self.parameters():
            p.requires_grad = True
"""

OPTS = """\
import argparse


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--freeze_resnet", default={frozen}, type=int)
    parser.add_argument("--steps", default=256, type=int)
    return parser.parse_args()
"""

TRAIN = """\
import torch
from model import ProjectionNet
from opts import parse_args


def run(args, loader):
    freeze_resnet = args.freeze_resnet
    model = ProjectionNet()
    if freeze_resnet > 0:
        model.freeze_resnet()
    opt = torch.optim.SGD(model.parameters(), lr=0.03)
    for step in range(args.steps):
        if step == freeze_resnet:
            model.unfreeze()
        x, y = next(loader)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 10 == 0:
            print(step, loss.item())
            {mode}model.eval()
            {mode}model.train()


if __name__ == "__main__":
    run(parse_args(), iter([]))
"""


def _project(tmp_path: Path, frozen: int, mode: str = "") -> Path:
    write_project(tmp_path, {"model.py": MODEL, "opts.py": OPTS.replace("{frozen}", str(frozen)),
                             "train.py": TRAIN.replace("{mode}", mode)})
    return tmp_path / "train.py"


def test_a_long_frozen_phase_counted_by_an_option_of_a_parser_module_is_reported(tmp_path: Path) -> None:
    [finding] = lint_in_process(_project(tmp_path, 20), "GL406")
    assert (finding.code, finding.line) == ("GL406", 10)
    assert "for the epochs before line 14 makes it trainable again" in finding.message
    assert "`model.train()` on line 23 puts it back in train mode" in finding.message


def test_a_short_warm_up_from_the_parser_module_is_quiet(tmp_path: Path) -> None:
    assert lint_in_process(_project(tmp_path, 3), "GL406") == []


def test_a_long_frozen_phase_with_no_mode_call_at_all_is_reported(tmp_path: Path) -> None:
    [finding] = lint_in_process(_project(tmp_path, 20, mode="# "), "GL406")
    assert (finding.code, finding.line) == ("GL406", 10)
    assert "for the epochs before line 14 makes it trainable again, but nothing puts it in eval mode" in finding.message


def test_a_short_warm_up_with_no_mode_call_is_quiet(tmp_path: Path) -> None:
    assert lint_in_process(_project(tmp_path, 3, mode="# "), "GL406") == []
