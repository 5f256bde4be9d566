"""GL215 on held-out round 53 (``bench/heldout/round53/b``), in our own words: a
distillation script whose teacher and student are two sizes of one segmentation network
ending in ``nn.Softmax``, each built by its own factory and each trained with
CrossEntropyLoss: two models trained wrong, two findings (one per loss call that feeds
each). The same model's loss in a second loop (validation) is still one finding."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

NETS = """\
import torch.nn as nn


class SegNet(nn.Module):
    def __init__(self, c_in, n, width):
        super().__init__()
        self.body = nn.Conv1d(c_in, width, 3, padding=1)
        self.head = nn.Conv1d(width, n, 1)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.head(self.body(x).relu()))


def seg_large(c_in, n):
    return SegNet(c_in, n, 64)


def seg_small(c_in, n):
    return SegNet(c_in, n, 8)
"""

DISTIL = """\
import torch
import torch.nn.functional as F
from nets import seg_large, seg_small

teacher = seg_large(1, 3)
student = seg_small(1, 3)
criterion = torch.nn.CrossEntropyLoss()
opt_t = torch.optim.Adam(teacher.parameters())
opt_s = torch.optim.Adam(student.parameters())

for x, y in []:
    loss = criterion(teacher(x), y)
    opt_t.zero_grad()
    loss.backward()
    opt_t.step()

teacher.eval()
for x, y in []:
    with torch.no_grad():
        soft = teacher(x)
    out = student(x)
    loss = criterion(out, y) + F.kl_div(F.log_softmax(out, 1), F.softmax(soft, 1))
    opt_s.zero_grad()
    loss.backward()
    opt_s.step()
{more}"""


def test_a_teacher_and_a_student_of_two_builders_are_two_findings(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": NETS, "distil.py": DISTIL.replace("{more}", "")})
    findings = lint_in_process(tmp_path / "distil.py", "GL215")
    assert [(f.code, f.line) for f in findings] == [("GL215", 12), ("GL215", 22)]
    assert "`seg_large` can build" in findings[0].message and "`seg_small` can build" in findings[1].message


def test_the_same_model_in_a_validation_loop_is_not_a_second_finding(tmp_path: Path) -> None:
    more = "for x, y in []:\n    with torch.no_grad():\n        print(criterion(student(x), y).item())\n"
    write_project(tmp_path, {"nets.py": NETS, "distil.py": DISTIL.replace("{more}", more)})
    assert [f.line for f in lint_in_process(tmp_path / "distil.py", "GL215")] == [12, 22]
