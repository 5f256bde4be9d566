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


PROBE_MODELS = """\
import torch
from torch import nn
import pytorch_lightning as pl


class LinearProbe(nn.Module):
    def __init__(self, encoder, hidden_size, out_size, frozen=True):
        super().__init__()
        self.encoder = encoder
        if frozen:
            for param in self.encoder.parameters():
                param.requires_grad = False
            self.encoder.eval()
        self.linear = nn.Linear(hidden_size, out_size)

    def forward(self, x):
        return self.linear(self.encoder(x))


class SimCLR(pl.LightningModule):
    def __init__(self, hidden=256):
        super().__init__()
        self.convnet = nn.Conv2d(3, 8, 3)
        self.projection_head = nn.Sequential(nn.Linear(8, hidden), nn.BatchNorm1d(hidden), nn.ReLU())

    def forward(self, x):
        return self.projection_head(self.convnet(x).mean((2, 3)))


class ClusteredSimCLR(SimCLR):
    def __init__(self, hidden=256, eps=0.3):
        super().__init__(hidden)
        self.eps = eps
"""

PROBE_SCRIPT = """\
import argparse
import torch
from src.models import LinearProbe, ClusteredSimCLR

parser = argparse.ArgumentParser()
parser.add_argument("--finetune", action="store_true")
args = parser.parse_args()
encoder = ClusteredSimCLR.load_from_checkpoint("last.ckpt")
encoder.eval()
model = LinearProbe(encoder, 128, 10, frozen=not args.finetune)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(100):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_batchnorm_inherited_from_a_base_class_of_the_imported_module(tmp_path: Path) -> None:
    write_project(tmp_path, {"src/__init__.py": "", "src/models.py": PROBE_MODELS, "eval_probe.py": PROBE_SCRIPT})
    [finding] = lint_in_process(tmp_path / "eval_probe.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 10)
    assert "`model.encoder` has BatchNorm layers and `LinearProbe`" in finding.message


def test_a_subclass_of_a_base_without_batchnorm_is_not_reported(tmp_path: Path) -> None:
    plain = PROBE_MODELS.replace("nn.BatchNorm1d(hidden)", "nn.LayerNorm(hidden)")
    write_project(tmp_path, {"src/__init__.py": "", "src/models.py": plain, "eval_probe.py": PROBE_SCRIPT})
    assert lint_in_process(tmp_path / "eval_probe.py", "GL406") == []


def test_batchnorm_inherited_from_a_base_class_of_the_same_file(tmp_path: Path) -> None:
    script = PROBE_SCRIPT.replace("from src.models import LinearProbe, ClusteredSimCLR\n", "")
    script = script.replace("import torch\n", "import torch\n" + PROBE_MODELS.split("import pytorch_lightning as pl\n")[1], 1)
    write_project(tmp_path, {"eval_probe.py": "import pytorch_lightning as pl\nfrom torch import nn\n" + script})
    [finding] = lint_in_process(tmp_path / "eval_probe.py", "GL406")
    assert "has BatchNorm layers" in finding.message and finding.line == 13


REGIME_HELPERS = """\
import torch.nn as nn


def set_trainable_params(model: nn.Module, regime: str) -> list:
    for p in model.parameters():
        p.requires_grad_(False)
    if regime == "full_finetune":
        for p in model.parameters():
            p.requires_grad_(True)
    elif regime == "last_block":
        for p in model.layer4.parameters():
            p.requires_grad_(True)
        for p in model.fc.parameters():
            p.requires_grad_(True)
    elif regime == "head_only":
        for p in model.fc.parameters():
            p.requires_grad_(True)
    else:
        raise ValueError(regime)
    return [p for p in model.parameters() if p.requires_grad]
"""

REGIME_SCRIPT = """\
import torch
import torchvision
from utils import set_trainable_params

REGIMES = ["full_finetune", "last_block", "head_only"]


def train_one_task(model, loader, regime):
    trainable = set_trainable_params(model, {regime})
    optimizer = torch.optim.Adam(trainable, lr=1e-3)
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


for regime in REGIMES:
    model = torchvision.models.resnet18(weights="DEFAULT")
    for task in range(5):
        train_one_task(model, [], regime)
"""


def test_a_helper_reopening_all_in_one_arm_freezes_for_the_others(tmp_path: Path) -> None:
    write_project(tmp_path, {"utils.py": REGIME_HELPERS, "ewc.py": REGIME_SCRIPT.format(regime="regime")})
    [finding] = lint_in_process(tmp_path / "ewc.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 9)
    assert "`set_trainable_params` (utils.py:5) freezes its parameters here" in finding.message


def test_the_call_asking_for_the_reopening_arm_freezes_nothing(tmp_path: Path) -> None:
    write_project(tmp_path, {"utils.py": REGIME_HELPERS, "ewc.py": REGIME_SCRIPT.format(regime='"full_finetune"')})
    assert lint_in_process(tmp_path / "ewc.py", "GL406") == []
    write_project(tmp_path, {"ewc.py": REGIME_SCRIPT.format(regime='"head_only"')})
    assert [f.line for f in lint_in_process(tmp_path / "ewc.py", "GL406")] == [9]


def test_a_helper_whose_only_arm_reopens_is_left_to_its_callers(tmp_path: Path) -> None:
    only_arm = REGIME_HELPERS.split('    elif regime == "last_block":')[0] + "    return list(model.parameters())\n"
    write_project(tmp_path, {"utils.py": only_arm, "ewc.py": REGIME_SCRIPT.format(regime="regime")})
    assert lint_in_process(tmp_path / "ewc.py", "GL406") == []


SHARE_OF_CHILDREN = """\
import torch
import torch.nn as nn
from torchvision import models


def train_pt(model, loader):
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
    for epoch in range(20):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


def build_densenet201():
    m = models.densenet201(weights="DEFAULT")
    all_layers = list(m.features.children())
    freeze_n = {bound}
    for i, layer in enumerate(all_layers):
        if i < freeze_n:
            for p in layer.parameters():
                p.requires_grad = False
    m.classifier = nn.Linear(1920, 38)
    return m


model_densenet201 = build_densenet201()
train_pt(model_densenet201, [])
"""


def test_a_share_of_the_children_frozen_by_index(tmp_path: Path) -> None:
    # (round 86/b: a plant-disease notebook freezing three quarters of a DenseNet's features)
    write_project(tmp_path, {"plants.py": SHARE_OF_CHILDREN.format(bound="int(len(all_layers) * 0.75)")})
    [finding] = lint_in_process(tmp_path / "plants.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 28)
    assert "with the first 75% of its child modules frozen" in finding.message
    write_project(tmp_path, {"plants.py": SHARE_OF_CHILDREN.format(bound="len(all_layers) // 2")})
    assert "the first 50% of its child modules" in lint_in_process(tmp_path / "plants.py", "GL406")[0].message


def test_a_share_too_small_to_read_is_left_alone(tmp_path: Path) -> None:
    write_project(tmp_path, {"plants.py": SHARE_OF_CHILDREN.format(bound="int(len(all_layers) * 0.1)")})
    assert lint_in_process(tmp_path / "plants.py", "GL406") == []
