"""GL406 shapes of held-out round 72 (``bench/heldout/round72``), in our own words: a
captioning course project whose name test reads head names that a constant switch at the
top of the script picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

SCRIPT = """\
    import torch
    import torch.nn as nn
    import torchvision.models as models

    BACKBONE = "{choice}"
    TRAIN_BACKBONE = False


    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = models.inception_v3(weights="DEFAULT", aux_logits=False)

        def forward(self, x):
            return self.net(x)


    def main(loader):
        model = Encoder()
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
        for name, param in model.net.named_parameters():
            if BACKBONE == "inception":
                head_weight = "fc.weight"
                head_bias = "fc.bias"
            elif BACKBONE == "whole":
                head_weight = "weight"
                head_bias = "bias"
            if head_weight in name or head_bias in name:
                param.requires_grad = True
            else:
                param.requires_grad = TRAIN_BACKBONE
        for epoch in range(50):
            model.train()
            for images in loader:
                loss = model(images).sum()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
"""


@pytest.mark.parametrize(("choice", "expected"), [("inception", [("GL406", 31)]), ("whole", [])])
def test_a_name_test_reads_head_names_a_constant_switch_picks(tmp_path: Path, choice: str, expected: list) -> None:
    """Round 72/a's captioner: ``if ENCODER_CHOICE == 'InceptionV3': weight = "fc.weight"
    elif ...: weight = "classifier.6.weight"`` in the loop, then ``if weight in name: True
    else: TRAIN_CNN`` (False). The switch's constant picks the arm, so only the head trains;
    where it picks names every parameter holds, nothing is frozen and nothing is said."""
    write_project(tmp_path, {"train.py": SCRIPT.format(choice=choice)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert findings[0].message.startswith("`model.net` has BatchNorm layers and its parameters are frozen here "
                                              "(`model.net.fc` trainable again")
