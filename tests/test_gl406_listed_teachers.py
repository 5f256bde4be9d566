"""GL406 for networks kept in a plain list and run one by one (held-out round 52/b, in our
own words): a segmentation student distilled from two pretrained teachers that the script
loads, puts in ``teachers = [t1, t2]`` and hands to the training function, which runs
``for tm in teachers: tm(x)`` and optimises only the student. No teacher is ever put in
eval mode, so each one's BatchNorm statistics drift on every batch."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

LISTED = """\
import copy
import torch
from torchvision import models


def train(model, teachers, loader, epochs=3):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            total = 0
            for tm in teachers:
                total = total + tm(x)["out"]
            loss = torch.nn.functional.cross_entropy(model(x)["out"], (total / len(teachers)).argmax(1))
            loss.backward()
            opt.step()


def main(loader):
    t1 = models.segmentation.fcn_resnet50(num_classes=21)
    t1.load_state_dict(torch.load("fcn.pt"))
    t2 = models.segmentation.deeplabv3_resnet50(num_classes=21)
    t2.load_state_dict(torch.load("deeplab.pt"))
    teachers = [t1, t2]
    student = copy.deepcopy(t1)
{extra}    train(student, teachers, loader)
"""


def test_each_teacher_of_a_list_run_in_the_training_loop_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"distil.py": LISTED.format(extra="")})
    findings = lint_in_process(tmp_path / "distil.py", "GL406")
    # at the list that names them, each with the run in the training loop
    assert [(f.code, f.line) for f in findings] == [("GL406", 24), ("GL406", 24)]
    assert "`t1` has BatchNorm layers and no optimiser of the file takes its parameters" in findings[0].message
    assert "running it on line 13 in the training loop" in findings[0].message
    assert "`t2` has BatchNorm layers" in findings[1].message


def test_teachers_put_in_eval_mode_are_not_reported(tmp_path: Path) -> None:
    extra = "    for t in teachers:\n        t.eval()\n"
    write_project(tmp_path, {"distil.py": LISTED.format(extra=extra)})
    assert lint_in_process(tmp_path / "distil.py", "GL406") == []


def test_a_list_of_networks_each_optimised_is_not_reported(tmp_path: Path) -> None:
    # an ensemble: every member of the list is trained, none is frozen
    source = LISTED.replace("opt = torch.optim.SGD(model.parameters(), lr=0.01)",
                            "opt = torch.optim.SGD([p for m in teachers for p in m.parameters()], lr=0.01)")
    write_project(tmp_path, {"distil.py": source.format(extra="")})
    assert lint_in_process(tmp_path / "distil.py", "GL406") == []
