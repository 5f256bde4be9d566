"""GL406 shapes of held-out round 84 (``bench/heldout/round84``), in our own words: a
training function returning the best model beside its loss (``return best_model,
criterion``), the loss then run under ``no_grad`` in a test function; a notebook export whose
cell shows the model with a bare ``model`` line; a segmentation script whose sibling scripts
save a checkpoint of the same name (copies, not a fine-tuning run that loads it)."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import lint_in_process, write_project

from gradlint.source.model_factories import plain_element

RETURNED_LOSS = """\
import torch
import torch.nn as nn
import torchvision


class FocalLoss(nn.Module):
    def forward(self, x, y):
        return nn.functional.cross_entropy(x, y)


def train(loss_name):
    model = torchvision.models.resnet34(weights="DEFAULT")
    model.fc = nn.Linear(512, 21)
    if loss_name == "focal":
        criterion = FocalLoss()
    else:
        criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(20):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
    return model, criterion, epoch


def test(model, criterion):
    model.eval()
    with torch.no_grad():
        for x, y in []:
            print(criterion(model(x), y).item())


best_model, loss_fn, best_epoch = train("focal")
test(best_model, loss_fn)
"""


def test_a_loss_returned_beside_the_model_is_no_network(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": RETURNED_LOSS})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_perceptual_loss_returned_beside_the_model_is_still_read_as_a_network(tmp_path: Path) -> None:
    source = RETURNED_LOSS.replace("criterion = FocalLoss()", "criterion = VGGPerceptualLoss()")
    tree = ast.parse(source)
    call = next(node.value for node in tree.body if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple))
    assert plain_element(ast.parse(RETURNED_LOSS), call, 1, 3) is True
    assert plain_element(tree, call, 1, 3) is False
    assert plain_element(tree, call, 0, 3) is False


NOTEBOOK_EXPORT = """\
import torch
from torch import nn, optim
from torchvision import models

# In[2]:
model = models.resnet50()
model

# In[3]:
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Sequential(nn.Linear(2048, 2), nn.LogSoftmax(dim=1))
criterion = nn.NLLLoss()
optimiser = optim.Adam(model.fc.parameters(), lr=0.003)
for i in range(5):
    for images, labels in trainloader:
        optimiser.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimiser.step()
"""


def test_a_cell_showing_the_model_leaves_its_mode_alone(tmp_path: Path) -> None:
    write_project(tmp_path, {"part8.py": NOTEBOOK_EXPORT})
    [finding] = lint_in_process(tmp_path / "part8.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 11)
    assert "nothing puts it in eval mode" in finding.message


FROZEN_FCN = """\
import torch.nn as nn
import torchvision


class FCN(nn.Module):
    def __init__(self, n_class):
        super().__init__()
        resnet = torchvision.models.resnet50(weights="DEFAULT")
        self.backbone = nn.Sequential(*list(resnet.children())[:-2])
        for param in self.backbone.parameters():
            param.requires_grad = False
        self.head = nn.Conv2d(2048, n_class, 1)

    def forward(self, x):
        return self.head(self.backbone(x))
"""

TRAIN_SCRIPT = """\
import torch
from {module} import FCN

save_path = "models/{name}_best_model.pth"
fcn_model = FCN(n_class=21)
optimizer = torch.optim.Adam(fcn_model.parameters(), lr=1e-2)
for epoch in range(50):
    fcn_model.train()
    for x, y in []:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(fcn_model(x), y).backward()
        optimizer.step()
    torch.save(fcn_model.state_dict(), save_path)
torch.save(fcn_model.state_dict(), "models/end_model.pth")
model_weights = torch.load(save_path)
"""


def test_sibling_scripts_saving_the_same_checkpoint_are_no_fine_tuning_run(tmp_path: Path) -> None:
    plain = FROZEN_FCN.replace("        for param in self.backbone.parameters():\n            param.requires_grad = False\n", "")
    write_project(tmp_path, {"transfer_fcn.py": FROZEN_FCN, "basic_fcn.py": plain,
                             "train_5_b.py": TRAIN_SCRIPT.format(module="transfer_fcn", name="5b"),
                             "train_4_a.py": TRAIN_SCRIPT.format(module="basic_fcn", name="4a")})
    [finding] = lint_in_process(tmp_path / "train_5_b.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 5)
    assert finding.message.startswith("`fcn_model.backbone` has BatchNorm layers and `FCN` (transfer_fcn.py:10)")
