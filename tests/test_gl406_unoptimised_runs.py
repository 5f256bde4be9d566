"""GL406 for a network the training loop runs but no optimiser takes, never put in eval
mode: a distillation teacher whose output is ``detach()``ed, without ``torch.no_grad()`` or
``requires_grad``. Read only where every optimiser of the file names the modules it trains
(held-out rounds 40 and 44 had teachers frozen this way; the cases are our own)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

KD = """\
import torch
from torch import nn
from torchvision import models

teacher = models.resnet50(weights="DEFAULT"){evaluated}
student = models.resnet18(num_classes=1000)
optimizer = {optimizer}
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 30)
for epoch in range(90):
    student.train()
    for x, y in []:
        soft = teacher(x).detach()
        out = student(x)
        loss = nn.functional.kl_div(out.log_softmax(1), soft.softmax(1), reduction="batchmean")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    scheduler.step()
"""

NAMED = "torch.optim.SGD(student.parameters(), lr=0.1, momentum=0.9)"


def test_a_teacher_no_optimiser_takes_is_reported_where_the_loop_runs_it(tmp_path: Path) -> None:
    write_project(tmp_path, {"kd.py": KD.format(evaluated="", optimizer=NAMED)})
    [finding] = lint_in_process(tmp_path / "kd.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 12)
    assert "`teacher` has BatchNorm layers and no optimiser of the file takes its parameters, but nothing puts it " \
           "in eval mode" in finding.message
    assert "call `teacher.eval()` once it is built" in finding.message


def test_a_teacher_in_eval_mode_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"kd.py": KD.format(evaluated=".eval()", optimizer=NAMED)})
    assert lint_in_process(tmp_path / "kd.py", "GL406") == []


def test_an_optimiser_it_cannot_read_leaves_the_teacher_unknown(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "helper.py": KD.format(evaluated="", optimizer="make_optimizer(student, teacher)"),
        "filtered.py": KD.format(evaluated="", optimizer="torch.optim.SGD(params, lr=0.1)").replace(
            "optimizer = torch", "params = []\nfor m in (student, teacher):\n    params.append(m)\noptimizer = torch"),
        "both.py": KD.format(evaluated="", optimizer="torch.optim.SGD(list(student.parameters()) + "
                                                     "list(teacher.parameters()), lr=0.1)"),
    })
    assert lint_in_process(tmp_path / "helper.py", "GL406") == []
    assert lint_in_process(tmp_path / "filtered.py", "GL406") == []
    assert lint_in_process(tmp_path / "both.py", "GL406") == []


def test_a_network_whose_parameters_the_file_reads_or_without_batchnorm_is_not_reported(tmp_path: Path) -> None:
    clipped = KD.format(evaluated="", optimizer=NAMED).replace(
        "        optimizer.step()", "        nn.utils.clip_grad_norm_(teacher.parameters(), 1.0)\n        optimizer.step()")
    write_project(tmp_path, {"clipped.py": clipped,
                             "vgg.py": KD.format(evaluated="", optimizer=NAMED).replace("resnet50", "vgg16")})
    assert lint_in_process(tmp_path / "clipped.py", "GL406") == []
    assert lint_in_process(tmp_path / "vgg.py", "GL406") == []


def test_a_target_network_synced_from_the_trained_one_is_not_frozen_by_omission(tmp_path: Path) -> None:
    synced = KD.format(evaluated="", optimizer=NAMED).replace(
        "    scheduler.step()", "    scheduler.step()\n    teacher.load_state_dict(student.state_dict())")
    write_project(tmp_path, {"synced.py": synced,
                             "loaded.py": KD.format(evaluated="\nteacher.load_state_dict(torch.load('t.pt'))",
                                                    optimizer=NAMED)})
    assert lint_in_process(tmp_path / "synced.py", "GL406") == []
    [finding] = lint_in_process(tmp_path / "loaded.py", "GL406")  # a teacher loaded from a file still is
    assert (finding.code, finding.line) == ("GL406", 13)
