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
