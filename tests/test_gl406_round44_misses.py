"""GL406 misses of held-out round 44 (real code, ``bench/heldout/round44``), in our own words.

- 44/a colinZejda: a distillation teacher run under ``no_grad`` in the loop, never put in eval
  mode; the optimiser takes a list built before it (``list(head.parameters()) +
  list(tail.decoder.parameters())``), so who is optimised was unknown.
- 44/a shenxy05: a linear probe's encoder handed to a project helper that runs it under
  ``no_grad`` in a helper of its own, the optimiser built with ``params=probe.parameters()``.
- 44/b sravan1023: a class freezing its ResNet under ``if not train_cnn``, built with
  ``train_cnn=config["train_cnn"]`` and ``config`` a dict a function of the file returns.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

TEACHER = """\
import torch
from torchvision import models


class Teacher(torch.nn.Module):
    def __init__(self):
        super().__init__()
        trunk = models.resnet34(weights="DEFAULT")
        self.stem = torch.nn.Sequential(trunk.conv1, trunk.bn1, trunk.relu, trunk.maxpool)
        self.body = torch.nn.Sequential(trunk.layer1, trunk.layer2)

    def forward(self, x):
        return self.body(self.stem(x))
"""

DISTIL = """\
import torch
from teacher import Teacher


def distil(loader, epochs=30):
    teacher = Teacher(){evaluated}
    head = torch.nn.Conv2d(3, 64, 7, stride=4, padding=3)
    tail = torch.nn.ModuleDict({{"decoder": torch.nn.Conv2d(64, 128, 3, stride=2, padding=1)}})
    params = list(head.parameters()) + list(tail["decoder"].parameters()){more}
    optimizer = torch.optim.SGD(params, lr=0.01)
    for epoch in range(epochs):
        for images, _ in loader:
            student = tail["decoder"](head(images))
            with torch.no_grad():
                target = teacher(images)
            loss = torch.nn.functional.mse_loss(student, target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


def test_a_teacher_out_of_a_listed_optimiser_and_never_evaluated_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"teacher.py": TEACHER, "distil.py": DISTIL.format(evaluated="", more="")})
    [finding] = lint_in_process(tmp_path / "distil.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 15)
    assert "`teacher` has BatchNorm layers and it runs under torch.no_grad() here and no optimiser" in finding.message
    assert "call `teacher.eval()` once it is built" in finding.message


def test_a_teacher_in_eval_mode_or_in_the_listed_optimiser_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"teacher.py": TEACHER,
                             "evaluated.py": DISTIL.format(evaluated=".eval()", more=""),
                             "listed.py": DISTIL.format(evaluated="", more=" + list(teacher.parameters())")})
    assert lint_in_process(tmp_path / "evaluated.py", "GL406") == []
    assert lint_in_process(tmp_path / "listed.py", "GL406") == []


def test_a_list_filled_in_a_loop_leaves_the_optimised_modules_unknown(tmp_path: Path) -> None:
    filled = DISTIL.format(evaluated="", more="").replace(
        '    params = list(head.parameters()) + list(tail["decoder"].parameters())\n',
        "    params = []\n    for module in (head, tail, teacher):\n        params.append(module)\n")
    write_project(tmp_path, {"teacher.py": TEACHER, "filled.py": filled})
    assert lint_in_process(tmp_path / "filled.py", "GL406") == []


FEATURES = """\
import torch


def embed(loader, network):
    rows = []
    for images, labels in loader:
        with torch.no_grad():
            rows.append((network(images).flatten(1), labels))
    return rows


def embed_both(network, train_loader, test_loader):
    return embed(train_loader, network), embed(test_loader, network)


def embed_with_gradients(network, train_loader, test_loader):
    return [(network(x), y) for x, y in train_loader], [(network(x), y) for x, y in test_loader]
"""

PROBE = """\
import torch
import torchvision
from features import {helper}

encoder = torchvision.models.resnet18(weights=None)
encoder.load_state_dict(torch.load("byol.pt")){evaluated}
encoder = torch.nn.Sequential(*list(encoder.children())[:-1])
probe = torch.nn.Linear(512, 10)
optimizer = torch.optim.Adam(params=probe.parameters(), lr=3e-4)
train_rows, test_rows = {helper}(encoder, [], [])
for epoch in range(50):
    for feats, y in train_rows:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(probe(feats), y).backward()
        optimizer.step()
"""


def test_an_encoder_a_project_helper_runs_under_no_grad_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"features.py": FEATURES, "probe.py": PROBE.format(helper="embed_both", evaluated="")})
    [finding] = lint_in_process(tmp_path / "probe.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 10)
    assert "`embed_both` (features.py:8) runs it under torch.no_grad() and no optimiser takes its parameters" \
        in finding.message
    assert "call `encoder.eval()`" in finding.message


def test_an_encoder_in_eval_mode_or_run_with_gradients_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"features.py": FEATURES,
                             "evaluated.py": PROBE.format(helper="embed_both", evaluated="\nencoder.eval()"),
                             "with_grad.py": PROBE.format(helper="embed_with_gradients", evaluated="")})
    assert lint_in_process(tmp_path / "evaluated.py", "GL406") == []
    assert lint_in_process(tmp_path / "with_grad.py", "GL406") == []


CAPTIONER = """\
import torch
from torchvision import models


class Encoder(torch.nn.Module):
    def __init__(self, size, train_cnn=False):
        super().__init__()
        trunk = models.resnet50(weights="DEFAULT")
        self.trunk = torch.nn.Sequential(*list(trunk.children())[:-1])
        self.project = torch.nn.Linear(2048, size)
        if not train_cnn:
            for p in self.trunk.parameters():
                p.requires_grad = False

    def forward(self, images):
        return self.project(self.trunk(images).flatten(1))
"""

TRAIN = """\
import torch
from captioner import Encoder


def settings():
    return {{"size": 256, "train_cnn": {train_cnn}, "lr": 1e-3}}


def fit(model, loader, optimizer):
    for epoch in range(20):
        model.train()
        for images, targets in loader:
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(images), targets).backward()
            optimizer.step()


if __name__ == "__main__":
    config = settings()
    model = Encoder(config["size"], train_cnn=config["train_cnn"])
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config["lr"])
    fit(model, [], optimizer)
"""


def test_a_freeze_flag_read_from_a_settings_dict_is_followed(tmp_path: Path) -> None:
    write_project(tmp_path, {"captioner.py": CAPTIONER, "frozen.py": TRAIN.format(train_cnn="False"),
                             "tuned.py": TRAIN.format(train_cnn="True")})
    [finding] = lint_in_process(tmp_path / "frozen.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 20)
    assert "`model.trunk` has BatchNorm layers" in finding.message
    assert lint_in_process(tmp_path / "tuned.py", "GL406") == []
