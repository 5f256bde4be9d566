"""GL215 shapes from held-out round 43/b (real code, ``bench/heldout/round43``), in our own
words: federated-learning scripts of a paper (WeiDai-David) build one model per client in a
list comprehension (``client_models = [MyNet() for _ in clients]``), take each out by index
(``client_model = client_models[i]``) or in a loop, and hand it to a training function of
the file; ``MyNet.forward`` returns a softmax. Some trainers call the loss they are given,
others hand the output to a distillation loss of the file that applies ``F.cross_entropy``
to it."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

SCRIPT = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class MyNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.fc3 = nn.Linear(512, num_classes)

    def forward(self, x):
        return {ending}


def distillation_loss(student_outputs, teacher_outputs, labels, temperature=1.0):
    soft_targets = F.softmax(teacher_outputs / temperature, dim=1)
    distill = F.kl_div(F.log_softmax(student_outputs / temperature, dim=1), soft_targets, reduction="batchmean")
    return distill + F.cross_entropy(student_outputs, labels)


def train_fedntd(model, global_model, loader, optimizer):
    model.train()
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        with torch.no_grad():
            teacher = global_model(inputs)
        loss = distillation_loss(outputs, teacher, labels)
        loss.backward()
        optimizer.step()


def federated(clients, rounds):
    global_model = MyNet()
    client_models = [MyNet() for _ in range(clients)]
    for r in range(rounds):
        {pick}
            optimizer = torch.optim.Adam(client_model.parameters())
            train_fedntd(client_model, global_model, [], optimizer)
"""

BY_INDEX = "for client_idx in range(clients):\n            client_model = client_models[client_idx]"
IN_LOOP = "for client_model in client_models:\n            pass"


def _lint(tmp_path: Path, ending: str, pick: str) -> list:
    write_project(tmp_path, {"fedntd.py": SCRIPT.format(ending=ending, pick=pick)})
    return lint_in_process(tmp_path / "fedntd.py", "GL215")


def test_a_model_of_a_list_handed_to_a_trainer_that_hands_its_output_to_a_loss_function(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "F.softmax(self.fc3(x), dim=1)", BY_INDEX)
    assert finding.line == 28 and "MyNet's output (line 12) is softmax probabilities" in finding.message
    assert "line 40 hands it to `train_fedntd`" in finding.message and "F.cross_entropy" in finding.message


def test_a_model_of_the_list_taken_in_a_loop_is_the_same(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "F.softmax(self.fc3(x), dim=1)", IN_LOOP)
    assert finding.line == 28 and "hands it to `train_fedntd`" in finding.message


def test_logits_are_quiet(tmp_path: Path) -> None:
    assert _lint(tmp_path, "self.fc3(x)", BY_INDEX) == []


GNN = """\
from torch import nn
from torch.functional import F


class AttGCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 4)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)
"""

GNN_TRAIN = """\
import torch

from models import AttGCNN, DiffPool


def train(net, loader):
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters())
    for x, y in loader:
        optimizer.zero_grad()
        loss = criterion(net(x), y)
        loss.backward()
        optimizer.step()


def graph_training():
    model = DiffPool()
    train(model, [])


def node_training():
    model = AttGCNN()
    train(model, [])
"""


def test_torch_functional_f_is_torch_nn_functional_and_another_functions_model_is_its_own(tmp_path: Path) -> None:
    # (round 44/b aitor-alvarez: ``from torch.functional import F``; ``model = DiffPool()`` in
    # another function is not the softmax AttGCNN)
    write_project(tmp_path, {"models.py": GNN, "train.py": GNN_TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert finding.line == 11 and "AttGCNN's output (models.py:11) is softmax probabilities" in finding.message
    assert "line 23 hands it to `train`" in finding.message
