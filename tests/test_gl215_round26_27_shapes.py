"""GL215 shapes from held-out rounds 26 and 27 (real code, ``bench/heldout/round26``, ``round27``):

- a project function that builds a torchvision model, replaces its head with
  ``nn.Sequential(nn.Linear(...), nn.Softmax(dim=-1))`` and returns it in a tuple with the
  input size (``model, input_size = resnet101()``), trained with CrossEntropyLoss in the
  script importing it (bird-classification course code);
- the model run through an explicit ``model.forward(x)`` (EEG classifiers).
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

NETS = """\
import torch.nn as nn
from torchvision.models import resnet101 as tv_resnet101


def resnet101(nclass=20):
    model = tv_resnet101(weights=None)
    model.fc = nn.Sequential(
        nn.Linear(model.fc.in_features, nclass),
        nn.Softmax(dim=-1),
    )
    return model, (224, 224)


def resnet101_logits(nclass=20):
    model = tv_resnet101(weights=None)
    model.fc = nn.Sequential(nn.Linear(model.fc.in_features, nclass), nn.Softmax(dim=-1))
    model.fc = nn.Linear(model.fc[0].in_features, nclass)
    return model
"""

MAIN = """\
import torch
from nets import {factory}

{bound} = {factory}()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = torch.nn.CrossEntropyLoss()


def train(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        output = model(x)
        loss = criterion(output, y)
        loss.backward()
        optimizer.step()
"""


def test_a_factory_returning_a_torchvision_model_with_a_softmax_head_in_a_tuple(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": NETS, "main.py": MAIN.format(factory="resnet101", bound="model, input_size")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 14)
    assert ("resnet101's output (nets.py:9) is softmax probabilities, and this line feeds it to CrossEntropyLoss"
            in finding.message)


def test_a_factory_whose_last_head_is_plain_linear_returns_logits(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": NETS, "main.py": MAIN.format(factory="resnet101_logits", bound="model")})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []


def test_a_model_run_through_forward_is_its_output(tmp_path: Path) -> None:
    script = MAIN.format(factory="resnet101", bound="model, input_size").replace("output = model(x)",
                                                                                 "output = model.forward(x).squeeze()")
    write_project(tmp_path, {"nets.py": NETS, "main.py": script})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert finding.line == 14 and "resnet101's output (nets.py:9) is softmax probabilities" in finding.message


def test_a_method_building_the_model_with_a_softmax_head_named_first(tmp_path: Path) -> None:
    # round 28: ``classifier = nn.Sequential(OrderedDict([..., ("output", nn.Softmax(dim=1))]))`` built
    # first, then ``model.classifier = classifier`` in ``init_model``; ``self.model = self.init_model()``
    write_project(tmp_path, {"trainer.py": """\
        from collections import OrderedDict

        import torch
        from torch import nn
        from torchvision import models


        class Trainer:
            def __init__(self):
                self.model = self.init_model()
                self.loss_func = nn.CrossEntropyLoss()
                self.optimizer = torch.optim.Adam(self.model.classifier.parameters())

            def init_model(self):
                model = models.densenet121(weights=None)
                classifier = nn.Sequential(OrderedDict([
                    ("fc", nn.Linear(1024, 2)),
                    ("output", nn.Softmax(dim=1)),
                ]))
                model.classifier = classifier
                return model

            def train_model(self, loader):
                for x, y in loader:
                    output = self.model(x)
                    loss = self.loss_func(output, y)
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
        """})
    [finding] = lint_in_process(tmp_path / "trainer.py", "GL215")
    assert finding.line == 26
    assert "init_model's output (line 18) is softmax probabilities, and this line feeds it to CrossEntropyLoss" in finding.message
