"""GL406 shapes from held-out round 25 (real code, ``bench/heldout/round25``):

- the older two-phase segmentation template: ``end_epoch = Freeze_Epoch`` before the frozen
  loop, ``end_epoch = UnFreeze_Epoch`` before the next one; the bound of the frozen loop is
  the value the name holds there (TeamSLPR's ship-freeboard DeepLabV3+);
- a frozen extractor built from a project class that never switches a mode, only run under
  ``no_grad`` in the loop, and put in eval (and evaluated) only once the loop is over
  (democracyDance's fedda fine-tuning).
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

TWO_PHASES = """\
import torch
from torch import nn
from torchvision import models


def fit_one_epoch(model_train, loader, optimizer):
    model_train.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model_train(x), y).backward()
        optimizer.step()


Init_Epoch = 0
Freeze_Epoch = {frozen}
UnFreeze_Epoch = 100
model = models.segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None)
model_train = model.train()
if True:
    start_epoch = Init_Epoch
    end_epoch = Freeze_Epoch
    optimizer = torch.optim.Adam(model_train.parameters(), 5e-4)
    for param in model.backbone.parameters():
        param.requires_grad = False
    for epoch in range(start_epoch, end_epoch):
        fit_one_epoch(model_train, [], optimizer)
if True:
    start_epoch = Freeze_Epoch
    end_epoch = UnFreeze_Epoch
    optimizer = torch.optim.Adam(model_train.parameters(), 5e-5)
    for param in model.backbone.parameters():
        param.requires_grad = True
    for epoch in range(start_epoch, end_epoch):
        fit_one_epoch(model_train, [], optimizer)
"""


def test_the_frozen_loop_reads_the_bound_a_reset_name_holds_there(tmp_path: Path) -> None:
    write_project(tmp_path, {"long.py": TWO_PHASES.format(frozen=40), "short.py": TWO_PHASES.format(frozen=5)})
    [finding] = lint_in_process(tmp_path / "long.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 24)
    assert "for the epochs before line 31 makes it trainable again" in finding.message
    assert lint_in_process(tmp_path / "short.py", "GL406") == []


EXTRACTOR = """\
import torch.nn as nn
import torchvision.models as models


class FeatureExtractor(nn.Module):
    def __init__(self):
        super().__init__()
        resnet = models.resnet50(weights=None)
        self.features = nn.Sequential(*list(resnet.children())[:-1])
        self.fc = nn.Linear(2048, 256)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))
"""

FINE_TUNE = """\
import torch
from torch import nn

from extractor import FeatureExtractor


def evaluate(model, classifier, loader):
    model.eval()
    classifier.eval()
    with torch.no_grad():
        return sum((classifier(model(x)).argmax(1) == y).float().mean() for x, y in loader)


def fine_tune(loader, epochs):
    extractor = FeatureExtractor()
    classifier = nn.Linear(256, 10)
    for param in extractor.parameters():
        param.requires_grad = False
    optimizer = torch.optim.Adam(classifier.parameters(), lr=1e-3)
    classifier.train()
    for epoch in range(epochs):
        for x, y in loader:
            with torch.no_grad():
                feat = extractor(x)
            loss = nn.functional.cross_entropy(classifier(feat), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
{inside}
    extractor.eval()
    return evaluate(extractor, classifier, loader)
"""


def test_an_eval_once_the_training_loop_is_over_sets_nothing_for_it(tmp_path: Path) -> None:
    write_project(tmp_path, {"extractor.py": EXTRACTOR,
                             "after.py": FINE_TUNE.format(inside=""),
                             "each_epoch.py": FINE_TUNE.format(inside="        evaluate(extractor, classifier, loader)")})
    [finding] = lint_in_process(tmp_path / "after.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 18)
    assert finding.message.startswith("`extractor` has BatchNorm layers and its parameters are frozen here, but nothing "
                                      "puts it in eval mode")
    assert "running it on line 24 in the training loop" in finding.message
    assert lint_in_process(tmp_path / "each_epoch.py", "GL406") == []
