"""GL215 shapes from held-out round 41 (real code, ``bench/heldout/round41``), in our own
words: a DCGAN-era auxiliary-classifier discriminator (round 41/b, progradeep) runs its
heads through ``nn.parallel.data_parallel(self.aux, h, range(self.ngpu))`` on several GPUs
and ``self.aux(h)`` otherwise; its class head ends in ``nn.Softmax()`` and is trained with
``NLLLoss`` (which expects log-probabilities)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ACGAN = """\
import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, ngpu, classes=10):
        super().__init__()
        self.ngpu = ngpu
        self.conv = nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1), nn.LeakyReLU(0.2))
        self.dis = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())
        self.aux = nn.Sequential(nn.Linear(64, classes), {last})

    def forward(self, x):
        if x.is_cuda and self.ngpu > 1:
            h = nn.parallel.data_parallel(self.conv, x, range(self.ngpu))
            aux_output = nn.parallel.data_parallel(self.aux, h, range(self.ngpu))
        else:
            h = self.conv(x)
            aux_output = self.aux(h)
        return self.dis(h).view(-1), aux_output


netD = Discriminator(1)
optimizer = torch.optim.Adam(netD.parameters())
dis_criterion = nn.BCELoss()
aux_criterion = nn.NLLLoss()
for x, real, label in []:
    optimizer.zero_grad()
    dis_out, aux_out = netD(x)
    loss = dis_criterion(dis_out, real) + aux_criterion(aux_out, label)
    loss.backward()
    optimizer.step()
"""


def _lint(tmp_path: Path, last: str) -> list:
    write_project(tmp_path, {"acgan.py": ACGAN.format(last=last)})
    return lint_in_process(tmp_path / "acgan.py", "GL215")


def test_a_head_run_through_data_parallel_on_one_path_and_directly_on_the_other(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "nn.Softmax(dim=1)")
    assert finding.line == 30
    assert finding.message.startswith("element 1 of the tuple Discriminator's forward returns (line 11) is softmax "
                                      "probabilities, and this line feeds it to NLLLoss")


def test_the_same_head_ending_in_log_softmax_is_quiet(tmp_path: Path) -> None:
    assert _lint(tmp_path, "nn.LogSoftmax(dim=1)") == []


# round 41/b (murumura): the discriminator class of another module keeps its own class loss
# (``self.class_loss = torch.nn.CrossEntropyLoss()``) and returns softmax class scores; the
# trainer calls ``net.class_loss(label, y)`` on them
HELD_MODELS = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Discriminator(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.body = nn.Linear(64, 128)
        self.adv = nn.Linear(128, 1)
        self.cls = nn.Linear(128, classes)
        self.class_loss = torch.nn.{loss}()

    def forward(self, x):
        h = self.body(x)
        return self.adv(h), F.softmax(self.cls(h), dim=1)
"""

HELD_TRAIN = """\
import torch
from models import Discriminator as InfoD

net = InfoD()
optimizer = torch.optim.Adam(net.parameters())
for x, y in []:
    optimizer.zero_grad()
    validity, label = net(x)
    loss = net.class_loss(label, y)
    loss.backward()
    optimizer.step()
"""


def test_a_loss_an_imported_model_class_keeps(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": HELD_MODELS.format(loss="CrossEntropyLoss"), "train.py": HELD_TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert finding.line == 9 and finding.message.startswith(
        "element 1 of the tuple Discriminator's forward returns (models.py:16) is softmax probabilities")


def test_a_kept_loss_that_expects_probabilities_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": HELD_MODELS.format(loss="KLDivLoss"), "train.py": HELD_TRAIN})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []
