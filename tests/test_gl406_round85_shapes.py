"""GL406 shapes of held-out round 85 (``bench/heldout/round85``), in our own words: a
notebook whose factory freezes a ResNet but its head, while a second factory builds one from
it and makes it all trainable for a triplet run, and a third function freezes that model
again; a notebook freezing ``model_ft``, then ``model = model_ft.to(device)`` frozen again
with its last blocks reopened, the same recipe repeated for a second network."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

THREE_FACTORIES = """\
import torch
import torch.nn as nn
from torchvision import models


def create_resnet():
    model = models.resnet18(weights="DEFAULT")
    model.fc = nn.Linear(512, 2)
    model = model.requires_grad_(False)
    model.fc.weight.requires_grad_(True)
    model.fc.bias.requires_grad_(True)
    return model


def train(model, loader, epochs, optimizer):
    for epoch in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


# In[3]:
model = create_resnet()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
train(model, [], 60, optimizer)


# In[4]:
def create_feature_extractor():
    model = create_resnet()
    model.fc = nn.Identity()
    model = model.requires_grad_(True)
    return model


model = create_feature_extractor()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
train(model, [], 10, optimizer)


# In[5]:
def refreeze(model):
    model.fc = nn.Linear(512, 2)
    model = model.requires_grad_(False)
    model.fc.weight.requires_grad_(True)
    return model


model = refreeze(model)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
train(model, [], 60, optimizer)
"""


def test_an_unfreeze_of_another_functions_own_model_leaves_the_factorys_model_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"transfer.py": THREE_FACTORIES})
    findings = lint_in_process(tmp_path / "transfer.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 9), ("GL406", 51)]
    assert "`refreeze` (line 46) freezes its parameters here" in findings[1].message


def test_the_fully_trainable_run_between_them_is_not_reported(tmp_path: Path) -> None:
    # without the two frozen runs, the feature extractor's model is trainable: nothing to say
    source = THREE_FACTORIES.split("# In[5]:")[0].replace("model = create_resnet()\noptimizer", "optimizer")
    source = source.replace("train(model, [], 60, optimizer)\n", "", 1)
    write_project(tmp_path, {"transfer.py": source})
    assert lint_in_process(tmp_path / "transfer.py", "GL406") == []


HELD_AND_FROZEN_AGAIN = """\
import torch
import torch.nn as nn
import torchvision

device = "cpu"


def train(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


# In[10]:
model_ft = torchvision.models.efficientnet_b0(weights="DEFAULT")
for param in model_ft.parameters():
    param.requires_grad = False
model_ft.classifier = nn.Linear(1280, 5)

# In[11]:
model = model_ft.to(device)
for param in model.parameters():
    param.requires_grad = False
for param in model.features[-4:].parameters():
    param.requires_grad = True
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
for epoch in range(50):
    train(model, [], optimizer)

# In[20]:
model_ft = torchvision.models.efficientnet_b3(weights="DEFAULT")
for param in model_ft.parameters():
    param.requires_grad = False
model_ft.classifier = nn.Linear(1536, 5)

# In[21]:
model = model_ft.to(device)
for param in model.parameters():
    param.requires_grad = False
for param in model.features[-4:].parameters():
    param.requires_grad = True
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
for epoch in range(50):
    train(model, [], optimizer)
"""


def test_each_held_model_frozen_again_is_its_own_finding(tmp_path: Path) -> None:
    write_project(tmp_path, {"transfer.py": HELD_AND_FROZEN_AGAIN})
    findings = lint_in_process(tmp_path / "transfer.py", "GL406")
    # each at the freeze the training sees, the one that reopens the last blocks
    assert [(f.code, f.line) for f in findings] == [("GL406", 25), ("GL406", 41)]
    assert all("`model.features[-4:]` trainable again" in f.message for f in findings)
