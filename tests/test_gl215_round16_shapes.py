"""GL215 on a shape held-out round 16 (/work/heldout45, Brankonymous) showed: a training
method building one of two models by a configuration name, both ending in softmax, fed to
one ``CrossEntropyLoss`` call. Each model is its own fix, and its own finding (written here
in our own words)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODELS = """\
    from torch import nn


    class FFNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.stack = nn.Sequential(nn.Linear(40, 64), nn.ReLU(), nn.Linear(64, 10), nn.Softmax(dim=1))

        def forward(self, x):
            return self.stack(x)


    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(1, 8, 3)
            self.fc = nn.Linear(8, 10)
            self.softmax = nn.{last}(dim=1)

        def forward(self, x):
            return self.softmax(self.fc(self.conv(x).mean(2)))
"""

TRAIN = """\
    import torch
    from torch import nn

    from models import CNN, FFNN


    def train(kind, loader):
        if kind == "ffnn":
            model = FFNN()
        elif kind == "cnn":
            model = CNN()
        loss_fn = nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.parameters())
        for x, y in loader:
            pred = model(x)
            loss = loss_fn(pred, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


def test_two_models_of_one_name_are_two_findings(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS.format(last="Softmax"), "train.py": TRAIN})
    findings = lint_in_process(tmp_path / "train.py", "GL215")
    assert [(f.code, f.line) for f in findings] == [("GL215", 16), ("GL215", 16)]
    assert findings[0].message.startswith("FFNN's output (models.py:7) is softmax probabilities")
    assert findings[1].message.startswith("CNN's output (models.py:18) is softmax probabilities")


def test_only_the_model_ending_in_softmax_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS.format(last="Identity"), "train.py": TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert finding.message.startswith("FFNN's output (models.py:7; when `model` is the FFNN of line 9)")
