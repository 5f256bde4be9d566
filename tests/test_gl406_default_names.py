"""GL406 where the model's name is a constructor parameter's default: ``torch.hub.load(
"pytorch/vision", resnet_model)`` with ``resnet_model="resnet18"``. Built without that
argument, the class freezes a resnet18; a call naming another model builds another one,
and is not reported. Held-out round 9 (/work/heldout30, a multimodal classifier) shaped it."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

NETS = """\
    import torch
    import torch.nn as nn


    class HubNet(nn.Module):
        def __init__(self, resnet_model="resnet18", num_labels=1):
            super().__init__()
            self.resnet = torch.hub.load("pytorch/vision:v0.10.0", resnet_model, pretrained=True)
            self.resnet.eval()  # undone by the first model.train()
            for param in self.resnet.parameters():
                param.requires_grad = False
            self.fc = nn.Linear(1000, num_labels)

        def forward(self, x):
            return self.fc(self.resnet(x))
"""

TRAIN = """\
    import torch
    from torch import nn

    from nets import HubNet


    def train_model(model, loader, epochs=1):
        optimizer = torch.optim.Adam(model.fc.parameters())
        for _ in range(epochs):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
                optimizer.step()


    model = HubNet({arguments})
    train_model(model, [])
"""


def _lint(tmp_path: Path, arguments: str) -> list:
    write_project(tmp_path, {"nets.py": NETS, "train.py": TRAIN.format(arguments=arguments)})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_the_default_model_name_of_a_hub_load_is_read(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "")
    assert (finding.code, finding.line) == ("GL406", 17)
    assert finding.message.startswith("`model.resnet` has BatchNorm layers and `HubNet` (nets.py:10) returns it with "
                                      "its parameters frozen, but `model.train()` on line 10")


def test_a_call_naming_another_model_is_not_reported(tmp_path: Path) -> None:
    assert _lint(tmp_path, "'vgg16'") == []
    assert _lint(tmp_path, "resnet_model='vgg11'") == []


def test_a_default_naming_a_model_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": NETS.replace('resnet_model="resnet18"', 'resnet_model="vgg16"'),
                             "train.py": TRAIN.format(arguments="")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
