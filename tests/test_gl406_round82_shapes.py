"""GL406 shapes of held-out round 82 (``bench/heldout/round82``), in our own words: a frozen
backbone cut down to its children and held by an ``nn.Sequential`` that the training loop
knows under another name (``model = probe_model``); a notebook that freezes a model inside a
function and again at module level (two models, two findings); and a training function
whose ``model`` parameter is handed a network the module's optimiser takes (not a network
left out of every optimiser)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

LINEAR_PROBE = """\
import torch
import torch.nn as nn
import torchvision.models as models

backbone = models.resnet50(weights=None)
for param in backbone.parameters():
    param.requires_grad = False
backbone = nn.Sequential(*list(backbone.children())[:-2])
head = nn.Conv2d(2048, 20, kernel_size=1)
probe_model = nn.Sequential(backbone, head)
model = {held}
optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
for epoch in range(20):
    model.train()
    for x, y in []:
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
"""


def test_a_frozen_backbone_held_by_a_sequential_known_under_another_name(tmp_path: Path) -> None:
    write_project(tmp_path, {"probe.py": LINEAR_PROBE.format(held="probe_model")})
    [finding] = lint_in_process(tmp_path / "probe.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert finding.message.startswith("`model[0]` has BatchNorm layers and its parameters are frozen here as `backbone`, "
                                      "which `model` holds (line 11), but `model.train()` on line 14")


def test_the_sequential_rebuilt_without_the_frozen_backbone_is_not_reported(tmp_path: Path) -> None:
    source = LINEAR_PROBE.format(held="probe_model").replace(
        "probe_model = nn.Sequential(backbone, head)", "probe_model = nn.Sequential(nn.Conv2d(3, 2048, 1), head)")
    write_project(tmp_path, {"probe.py": source})
    assert lint_in_process(tmp_path / "probe.py", "GL406") == []


TWO_RUNS = """\
import torch
import torch.nn as nn
import torchvision


def train_model(model, loss_function, optimizer, loader):
    model.train()
    for inputs, labels in loader:
        optimizer.zero_grad()
        loss_function(model(inputs), labels).backward()
        optimizer.step()


def feature_extractor(epochs=10):
    model = torchvision.models.resnet18(weights="DEFAULT")
    for param in model.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, 10)
    optimizer = torch.optim.Adam(model.fc.parameters())
    for epoch in range(epochs):
        train_model(model, nn.CrossEntropyLoss(), optimizer, [])


feature_extractor()

model = torchvision.models.resnet18(weights="DEFAULT")
for param in model.parameters():
    param.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, 10)
optimizer = torch.optim.Adam(model.fc.parameters())
train_model(model, nn.CrossEntropyLoss(), optimizer, [])
"""


def test_a_function_local_model_and_the_module_level_model_are_two_findings(tmp_path: Path) -> None:
    write_project(tmp_path, {"notebook.py": TWO_RUNS})
    findings = lint_in_process(tmp_path / "notebook.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 17), ("GL406", 28)]
    assert all("`model.train()` on line 7 puts it back in train mode" in f.message for f in findings)


DIFFERENTIAL_LR = """\
import torch
import torch.nn as nn
import torchvision.models as models


def build(num_classes):
    net = models.mobilenet_v3_large(weights=None)
    net.classifier[3] = nn.Linear(1280, num_classes)
    return net


def train_epoch(model, loader, criterion, optimizer):
    model.train()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()


def load_for_inference(path):
    model = models.mobilenet_v3_large(weights=None)
    model.load_state_dict(torch.load(path))
    return model.eval()


mobilenet = build(6)
optimizer = torch.optim.AdamW([
    {"params": mobilenet.features.parameters(), "lr": 1e-4},
    {"params": mobilenet.classifier.parameters(), "lr": 1e-3},
])
for epoch in range(50):
    train_epoch(mobilenet, [], nn.CrossEntropyLoss(), optimizer)
"""


def test_a_training_function_parameter_handed_an_optimised_network_is_not_left_out(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": DIFFERENTIAL_LR})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
