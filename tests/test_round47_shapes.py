"""False findings of held-out round 47's first run (real code, ``bench/heldout/round47``), in
our own words.

- 47/b, a skin-lesion distillation project: a loader freezing its MobileNet only under
  ``if freeze_parameters:``, called once, with ``False`` (GL406).
- 47/b, a graph-network project: ``model = GCN(...)`` under ``if args.model == 'gcn':``,
  and a training helper of another model handed ``model`` under ``if args.model == 'sgc':``;
  the GCN never reaches that helper (GL215): only the loss of the helper called under ``'gcn'``
  is its loss.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

LOADER = """\
import torch
from torch import nn
from torchvision import models


def load_blank(freeze_parameters, pretrained=True):
    net = models.mobilenet_v2(pretrained=pretrained)
    if freeze_parameters:
        for parameter in net.parameters():
            parameter.requires_grad = False
    net.classifier[1] = nn.Linear(net.last_channel, 1)
    model = net.to("cpu")
    return model, 224


def fit(loader, model, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
        optimizer.step()


def run(loader):
    model, size = load_blank({flag}, True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    fit(loader, model, optimizer)
"""


def test_a_freeze_under_a_flag_every_call_passes_off_is_not_reported(tmp_path: Path) -> None:
    path = tmp_path / "train.py"
    path.write_text(LOADER.format(flag="False"))
    assert lint_in_process(path, "GL406") == []
    path.write_text(LOADER.format(flag="True"))
    [finding] = lint_in_process(path, "GL406")
    assert (finding.code, finding.line) == ("GL406", 10)


MODELS = """\
import torch.nn.functional as F
from torch import nn


class GCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x, adj):
        return F.softmax(self.fc(adj @ x), dim=1)


class SGC(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1)
"""

TRAINER = """\
import torch.nn.functional as F


def train_gcn(model, optimizer, x, adj, y):
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x, adj), y)
    loss.backward()
    optimizer.step()


def train_sgc(model, optimizer, x, y):
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
"""

MAIN = """\
import argparse
import torch
from models import GCN, SGC
from trainer import train_gcn, train_sgc

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="gcn")
args = parser.parse_args()
if args.model == "gcn":
    model = GCN()
elif args.model == "sgc":
    model = SGC()
optimizer = torch.optim.Adam(model.parameters())
x, adj, y = torch.randn(5, 8), torch.eye(5), torch.tensor([0, 1, 2, 0, 1])
for epoch in range(10):
    if args.model == "sgc":
        train_sgc(model, optimizer, x, y)
    elif args.model == "gcn":
        train_gcn(model, optimizer, x, adj, y)
"""


def test_a_helper_called_under_a_test_the_models_arm_contradicts_is_not_its_loss(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS, "trainer.py": TRAINER, "main.py": MAIN})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 19)
    assert "when `model` is the GCN of line 10" in finding.message and "`train_gcn` (trainer.py:7)" in finding.message
