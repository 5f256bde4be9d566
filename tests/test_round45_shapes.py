"""Shapes of held-out round 45 (real code, ``bench/heldout/round45``), in our own words.

- 45/b mpc001 (lipreading): the whole pretrained network is frozen, then only its recurrent
  back end (``model.gru``) is made trainable again; the convolutional front end keeps its
  BatchNorm frozen, and ``model.train()`` puts it in train mode (GL406).
- 45/b yuvallavie: a model class with its own ``fit(self, loaders, criterion, optimizer)``
  method, called as ``evaluator.fit(loaders, F.nll_loss, ...)`` while ``forward`` ends in
  ``nn.Softmax`` (GL215).
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

LIPREADING = """\
import torch
from torch import nn


class FrontEnd(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(1, 64, (5, 7, 7), padding=(2, 3, 3))
        self.bn = nn.BatchNorm3d(64)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x))).mean((3, 4)).transpose(1, 2)


class Lipreader(nn.Module):
    def __init__(self):
        super().__init__()
        self.frontend = FrontEnd()
        self.{backend} = nn.GRU(64, 256, batch_first=True)
        self.fc = nn.Linear(256, 500)

    def forward(self, x):
        out, _ = self.{backend}(self.frontend(x))
        return self.fc(out[:, -1])


def run_epoch(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


model = Lipreader()
model.load_state_dict(torch.load("pretrained.pt"))
for param in model.parameters():
    param.requires_grad = False
for param in model.{backend}.parameters():
    param.requires_grad = True
optimizer = torch.optim.Adam(model.{backend}.parameters(), lr=3e-4)
for epoch in range(30):
    run_epoch(model, [], optimizer)
"""


def test_a_recurrent_back_end_trained_on_a_frozen_front_end_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"gru.py": LIPREADING.format(backend="gru")})
    [finding] = lint_in_process(tmp_path / "gru.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 38)
    assert "`model.gru` trainable again; the rest stays frozen" in finding.message


def test_another_part_trained_again_leaves_what_stays_frozen_unknown(tmp_path: Path) -> None:
    source = LIPREADING.format(backend="temporal").replace(
        "torch.optim.Adam(model.temporal.parameters(), lr=3e-4)",
        "torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-4)")
    write_project(tmp_path, {"other.py": source})
    assert lint_in_process(tmp_path / "other.py", "GL406") == []


def test_an_optimiser_taking_only_that_part_leaves_the_rest_frozen(tmp_path: Path) -> None:
    # (``requires_grad = True`` on ``model.temporal`` says nothing of the front end: no optimiser takes it)
    write_project(tmp_path, {"other.py": LIPREADING.format(backend="temporal")})
    [finding] = lint_in_process(tmp_path / "other.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 41)
    assert finding.message.startswith("`model` has BatchNorm layers and only `model.temporal` is optimised here")


EVALUATOR = """\
import torch
from torch import nn


class Evaluator(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder
        self.fc = nn.Sequential(nn.Linear(2048, 10), {ending})

    def forward(self, x):
        return self.fc(self.encoder(x))

    def fit(self, loader, criterion, optimizer, epochs=25):
        model = self
        for epoch in range(epochs):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
"""

MAIN = """\
import torch
import torch.nn.functional as F
from evaluator import Evaluator

evaluator = Evaluator(torch.nn.Identity())
optimizer = torch.optim.SGD(evaluator.parameters(), lr=0.1)
evaluator.fit([], F.nll_loss, optimizer, epochs=5)
"""


def test_a_models_own_fit_method_links_its_output_to_the_loss_it_is_given(tmp_path: Path) -> None:
    write_project(tmp_path, {"evaluator.py": EVALUATOR.format(ending="nn.Softmax(dim=1)"), "main.py": MAIN})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 7)
    assert "Evaluator's output (evaluator.py:9) is softmax probabilities, and this line hands it to " \
           "`evaluator.fit` (evaluator.py:20), which feeds it to F.nll_loss" in finding.message


def test_a_models_own_fit_method_with_log_probabilities_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"evaluator.py": EVALUATOR.format(ending="nn.LogSoftmax(dim=1)"), "main.py": MAIN})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []


SEMI_NET = """\
import torch
from torch import nn
from torchvision import models


class SemiSeg(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = models.resnet50(weights="DEFAULT")
        self.encoder.fc = nn.Identity()
        self.head = nn.Linear(2048, 21)

    def forward(self, labelled, unlabelled):
        out = self.head({labelled})
        with torch.no_grad():
            pseudo = self.encoder(unlabelled)
        return out, pseudo
"""

SEMI = """\
import torch
from torch import nn
from semi_net import SemiSeg

model = SemiSeg()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(20):
    model.train()
    for x, u, y in []:
        out, _ = model(x, u)
        optimizer.zero_grad()
        nn.functional.cross_entropy(out, y).backward()
        optimizer.step()
"""


def test_a_part_the_forward_also_runs_with_gradients_is_not_frozen_by_no_grad(tmp_path: Path) -> None:
    write_project(tmp_path, {"semi_net.py": SEMI_NET.format(labelled="self.encoder(labelled)"), "semi.py": SEMI})
    assert lint_in_process(tmp_path / "semi.py", "GL406") == []
    write_project(tmp_path, {"semi_net.py": SEMI_NET.format(labelled="labelled")})
    [finding] = lint_in_process(tmp_path / "semi.py", "GL406")
    assert finding.code == "GL406" and "`model.encoder` has BatchNorm layers" in finding.message


LIGHTNING = """\
import lightning as L
import torch
from torch import nn
from torchvision.models import segmentation


class SegModule(L.LightningModule):
    def __init__(self, freeze_backbone={default}, classes=6):
        super().__init__()
        self.model = segmentation.deeplabv3_resnet50(weights="DEFAULT")
        self.model.classifier[4] = nn.Conv2d(256, classes, 1)
        if freeze_backbone:
            for p in self.model.backbone.parameters():
                p.requires_grad = False
        self.loss_fn = nn.CrossEntropyLoss()

    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.loss_fn(self.model(x)["out"], y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)
"""


def test_a_lightning_freeze_under_a_flag_that_defaults_off_is_not_reported_in_its_file(tmp_path: Path) -> None:
    write_project(tmp_path, {"off.py": LIGHTNING.format(default="False"), "on.py": LIGHTNING.format(default="True")})
    assert lint_in_process(tmp_path / "off.py", "GL406") == []
    [finding] = lint_in_process(tmp_path / "on.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 14)


HELPERS = """\
def optim_or_not(module, yes):
    for param in module.parameters():
        if yes:
            param.requires_grad = True
        else:
            param.requires_grad = False


def turn_off(model):
    optim_or_not(model.conv1, False)
    optim_or_not(model.layer1, False)
    optim_or_not(model.layer2, False)
"""

SEG = """\
import torch
from torchvision import models
from helpers import *

model = models.resnet50(weights="DEFAULT")
turn_off(model)
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
for epoch in range(10):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_flag_set_by_if_else_in_a_helper_the_script_calls_through_another(tmp_path: Path) -> None:
    write_project(tmp_path, {"helpers.py": HELPERS, "seg.py": SEG})
    [finding] = lint_in_process(tmp_path / "seg.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 6)
    # the stem convolution it freezes first holds no BatchNorm: the finding names a stage that does
    assert "`model.layer1` has BatchNorm layers and `turn_off` (helpers.py:11) freezes its parameters" in finding.message
    write_project(tmp_path, {"on.py": SEG.replace("turn_off(model)", "optim_or_not(model.layer1, True)")})
    assert lint_in_process(tmp_path / "on.py", "GL406") == []


FLOW = """\
import torch
from torch import nn
from torchvision import models


class Flow(nn.Module):
    def __init__(self, depth):
        super().__init__()
        resnet = models.resnet18(weights="DEFAULT") if depth == 18 else models.resnet34(weights="DEFAULT")
        self.stem = nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool, resnet.layer1)
        self.flow = nn.Conv2d(64, 64, 3, padding=1)

    def forward(self, x):
        with torch.no_grad():
            feats = self.stem(x)
        return self.flow(feats)


flow = Flow(18)
optimizer = torch.optim.Adam(flow.parameters(), lr=2e-4)
for epoch in range(15):
    flow.train()
    for x in []:
        optimizer.zero_grad()
        flow(x).pow(2).mean().backward()
        optimizer.step()
"""


def test_a_stem_built_from_either_arm_of_a_conditional_expression_has_batchnorm(tmp_path: Path) -> None:
    write_project(tmp_path, {"flow.py": FLOW})
    [finding] = lint_in_process(tmp_path / "flow.py", "GL406")
    assert finding.code == "GL406" and "`flow.stem` has BatchNorm layers" in finding.message


UNET = """\
import torch
from torch import nn
from torchvision import models


class ResNetUNet(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.base_model = models.resnet101(weights="DEFAULT")
        self.base_layers = list(self.base_model.children())
        self.encoder = nn.Sequential(*self.base_layers[:8])
        self.decoder = nn.Conv2d(2048, classes, 1)

    def forward(self, x):
        return self.decoder(self.encoder(x))


model = ResNetUNet(3)
for layer in model.base_layers:
    for param in layer.parameters():
        param.requires_grad = False
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
for epoch in range(40):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_layers_frozen_through_a_list_the_model_keeps_are_a_partial_freeze(tmp_path: Path) -> None:
    write_project(tmp_path, {"unet.py": UNET})
    [finding] = lint_in_process(tmp_path / "unet.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 21)
    assert "`model` has BatchNorm layers and the layers in `model.base_layers` are frozen here" in finding.message
    assert finding.fix is None  # a list has no eval(): the message asks for it on the layers


PROJECTION = """\
from torch import nn
from torchvision import models


class Projection(nn.Module):
    def __init__(self):
        super().__init__()
        self.resnet18 = models.resnet18(weights="DEFAULT")
        self.resnet18.fc = nn.Identity()
        self.out = nn.Linear(512, 2)

    def forward(self, x):
        return self.out(self.resnet18(x))

    def freeze_resnet(self):
        for param in self.resnet18.parameters():
            param.requires_grad = False

    def unfreeze(self):
        for param in self.parameters():
            param.requires_grad = True
"""

CUTPASTE = """\
import torch
from torch import nn
from projection import Projection


def run_training(batches, epochs=256, freeze_resnet={phase}):
    model = Projection()
    model.freeze_resnet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03)
    for step in range(epochs):
        epoch = int(step / 1)
        if epoch == freeze_resnet:
            model.unfreeze()
        model.train()
        x, y = next(batches)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_frozen_phase_counted_by_a_name_the_loop_derives_and_a_parameters_default(tmp_path: Path) -> None:
    write_project(tmp_path, {"projection.py": PROJECTION, "long.py": CUTPASTE.format(phase=20),
                             "short.py": CUTPASTE.format(phase=3)})
    [finding] = lint_in_process(tmp_path / "long.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 8)
    assert "for the epochs before line 13 makes it trainable again" in finding.message
    assert lint_in_process(tmp_path / "short.py", "GL406") == []


SCRIPT_SIGMOID = """\
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 1)

    def forward(self, x):
        return self.fc(x)


model = Net()
criterion = nn.{loss}()
optimizer = torch.optim.Adam(model.parameters())
for x, y in []:
    out = model(x)
    out = torch.sigmoid(out)
    loss = criterion(out, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""


def test_a_script_rebinding_the_output_to_its_sigmoid_before_the_loss(tmp_path: Path) -> None:
    write_project(tmp_path, {"logits.py": SCRIPT_SIGMOID.format(loss="BCEWithLogitsLoss"),
                             "probs.py": SCRIPT_SIGMOID.format(loss="BCELoss")})
    [finding] = lint_in_process(tmp_path / "logits.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 20)
    assert "`out = torch.sigmoid(out)` (line 19) is sigmoid probabilities, and this line feeds it to " \
           "BCEWithLogitsLoss" in finding.message
    assert lint_in_process(tmp_path / "probs.py", "GL215") == []


ARMS_NET = """\
import torch
from torch import nn
from torchvision import models


class Encoder(nn.Module):
    def __init__(self, improve=False):
        super().__init__()
        self.resnet = nn.Sequential(*list(models.resnet50(weights="DEFAULT").children())[:-1])
        self.linear = nn.Linear(2048, 256)
        self.improve = improve

    def forward(self, img):
        if not self.improve:
            with torch.no_grad():
                y = self.resnet(img)
        else:
            y = self.resnet(img)
        return self.linear(y.flatten(1))
"""

ARMS = """\
import torch
from torch import nn
from arms_net import Encoder

model = Encoder()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(20):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
"""


def test_a_part_run_with_gradients_only_in_the_other_arm_of_a_flag_is_frozen_in_this_one(tmp_path: Path) -> None:
    write_project(tmp_path, {"arms_net.py": ARMS_NET, "arms.py": ARMS})
    [finding] = lint_in_process(tmp_path / "arms.py", "GL406")
    assert finding.code == "GL406" and "`model.resnet` has BatchNorm layers" in finding.message
