"""GL406 shapes of held-out round 75 (``bench/heldout/round75``), in our own words: the
transfer-learning tutorial's ``visualize_model``, which puts a model back in the mode it
came in."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

SCRIPT = """\
    import torch
    import torch.nn as nn
    import torchvision


    def visualize_model(model, loader):
        was_training = model.training
        model.eval()
        with torch.no_grad():
            for x, _ in loader:
                model(x)
        model.train(mode={restored})


    def fit(model, optimizer, loader):
        model.train()
        for x, y in loader:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


    def main(loader):
        head = nn.Linear(2048, 2)
        fit(head, torch.optim.SGD(head.parameters(), lr=1e-3), loader)
        model_conv = torchvision.models.resnet50(weights="DEFAULT")
        for param in model_conv.parameters():
            param.requires_grad = False
        model_conv.fc = nn.Linear(2048, 2)
        visualize_model(model_conv, loader)
"""


@pytest.mark.parametrize(("restored", "expected"), [("was_training", []), ("True", [("GL406", 29)])])
def test_a_mode_restored_after_a_look_is_not_a_train_call(tmp_path: Path, restored: str, expected: list) -> None:
    """Round 75/a's COVID classifier: a frozen ResNet (bound after the script's only training
    call) is only shown by ``visualize_model``, which ends in ``model.train(mode=was_training)``
    with ``was_training = model.training``: that puts it back in the mode it came in, and
    trains nothing. A plain ``model.train(mode=True)`` there is a train call, and the frozen
    network then runs in train mode (as GL406 has always read it)."""
    write_project(tmp_path, {"train.py": SCRIPT.format(restored=restored)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
