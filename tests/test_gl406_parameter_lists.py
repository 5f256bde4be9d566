"""GL406 through a list of a model's parameters bound before the freeze loop (held-out round
79/b, in our own words): ``parameters = list(model.parameters())`` and then ``for p in
parameters: p.requires_grad = trainable`` in a helper called with ``trainable=False``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

STAGED = """\
import torch
import torch.nn as nn
import torchvision


def set_backbone_trainable(model, trainable):
    parameters = list(model.parameters())
    for parameter in parameters:
        parameter.requires_grad = trainable
    for parameter in model.fc.parameters():
        parameter.requires_grad = True


def run_epoch(model, loader, optimizer=None):
    training = optimizer is not None
    model.train(training)
    for x, y in loader:
        loss = nn.functional.cross_entropy(model(x), y)
        if training:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    model = torchvision.models.resnet50(weights="DEFAULT")
    set_backbone_trainable(model, trainable={trainable})
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
    for epoch in range(100):
        run_epoch(model, [], optimizer)


main()
"""


def test_a_helper_freezing_a_bound_list_of_the_model_parameters(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": STAGED.format(trainable="False")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 27)
    assert finding.message.startswith("`model` has BatchNorm layers and `set_backbone_trainable` (line 8) freezes its "
                                      "parameters here, but `model.train()` on line 16")


def test_the_same_helper_called_trainable_freezes_nothing(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": STAGED.format(trainable="True")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_list_grown_with_other_parameters_is_not_read(tmp_path: Path) -> None:
    source = STAGED.format(trainable="False").replace(
        "    for parameter in parameters:\n", "    parameters.extend(extra)\n    for parameter in parameters:\n")
    write_project(tmp_path, {"train.py": source})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
