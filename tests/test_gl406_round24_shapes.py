"""GL406 shapes from held-out round 24 (real code, ``bench/heldout/round24``):

- ``on_train_start`` putting the frozen extractor in eval mode holds for the whole fit of a
  LightningModule with no ``validation_step`` (hcw-00's PatchCore, a look-alike); with a
  validation loop, Lightning's ``train()`` after it undoes the eval;
- code after an unconditional ``exit(1)`` never runs (BautistaPicca's classifierV2);
- a freezing class built as a layer of ``nn.Sequential`` is ``model[0]`` (Yidadaa's
  CNN-LSTM, whose encoder runs its ResNet under ``torch.no_grad()``).
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project
from test_gl406_lightning_steps import MODULE

START_HOOK = """
        def on_train_start(self):
            self.net.eval()
"""

VALIDATION = """
        def validation_step(self, batch, batch_idx):
            x, y = batch
            return nn.functional.cross_entropy(self(x), y)
"""


def test_an_eval_in_on_train_start_holds_without_a_validation_loop(tmp_path: Path) -> None:
    write_project(tmp_path, {"quiet.py": MODULE.format(arch="resnet18", hook=START_HOOK),
                             "validated.py": MODULE.format(arch="resnet18", hook=START_HOOK + VALIDATION)})
    assert lint_in_process(tmp_path / "quiet.py", "GL406") == []
    [finding] = lint_in_process(tmp_path / "validated.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 12)
    assert finding.message.startswith("`self.net` has BatchNorm layers and its parameters are frozen here")


SCRIPT = """\
import sys

import torch
from torch import nn
from torchvision import models


def train(loader):
    print("use train_v2.py")
    {stop}
    model = models.resnet50(weights=None)
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(2048, 2)
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)
    for epoch in range(10):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


def test_code_after_an_unconditional_exit_never_runs(tmp_path: Path) -> None:
    write_project(tmp_path, {"dead.py": SCRIPT.format(stop="exit(1)"), "sys_exit.py": SCRIPT.format(stop="sys.exit(1)"),
                             "guarded.py": SCRIPT.format(stop="if loader is None:\n        sys.exit(1)")})
    assert lint_in_process(tmp_path / "dead.py", "GL406") == []
    assert lint_in_process(tmp_path / "sys_exit.py", "GL406") == []
    [finding] = lint_in_process(tmp_path / "guarded.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 14)


ENCODER = """\
import torch
from torch import nn
from torchvision import models


class CNNEncoder(nn.Module):
    def __init__(self, out_dim=256):
        super().__init__()
        resnet = models.resnet152(weights=None)
        self.cnn = nn.Sequential(*list(resnet.children())[:-1])
        self.fc = nn.Linear(resnet.fc.in_features, out_dim)

    def forward(self, frames):
        outs = []
        for t in range(frames.size(1)):
            with torch.no_grad():
                x = self.cnn(frames[:, t]).flatten(1)
            outs.append(self.fc(x))
        return torch.stack(outs, 1)


class RNNDecoder(nn.Module):
    def __init__(self, in_dim=256, classes=10):
        super().__init__()
        self.lstm = nn.LSTM(in_dim, 128, batch_first=True)
        self.out = nn.Linear(128, classes)

    def forward(self, x):
        return self.out(self.lstm(x)[0][:, -1])
"""

VIDEO_SCRIPT = """\
import torch
from torch import nn

from model import CNNEncoder, RNNDecoder


def train(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


model = nn.Sequential(CNNEncoder(), RNNDecoder())
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
for epoch in range(20):
    train(model, [], optimizer)
"""


def test_a_freezing_class_built_as_a_layer_of_a_sequential(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": ENCODER, "train.py": VIDEO_SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 15)
    assert finding.message.startswith("`model[0].cnn` has BatchNorm layers and `CNNEncoder` builds it and runs it under "
                                      "torch.no_grad() in forward (model.py:17)")
    assert "`model.train()` on line 8 puts it back in train mode" in finding.message
