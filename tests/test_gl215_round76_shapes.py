"""GL215 shapes of held-out round 76 (``bench/heldout/round76``), in our own words: a test
script whose loss is only logged, through ``.cpu().detach().numpy()``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODEL = """\
    import torch.nn as nn


    class Encoder(nn.Module):
        def __init__(self, classes):
            super().__init__()
            self.fc = nn.Linear(512, classes)
            self.softmax = nn.Softmax(dim=1)

        def forward(self, x):
            return self.softmax(self.fc(x))
"""

TEST_SCRIPT = """\
    import torch
    import torch.nn as nn

    from model import Encoder


    def test(loader):
        model = Encoder(200)
        criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_val = 0.0
        for images, classes in loader:
            optimizer.zero_grad()
            scores = model(images)
            loss = criterion(scores, classes)
            loss_val += {read}
"""


def test_a_loss_only_logged_through_numpy_trains_nothing(tmp_path: Path) -> None:
    # (round 76/b, mdhasanai's test.py: the training script's line is the finding, not this one)
    write_project(tmp_path, {"model.py": MODEL, "test.py": TEST_SCRIPT.format(read="loss.cpu().detach().numpy()"),
                             "logged.py": TEST_SCRIPT.format(read="float(loss.data.cpu())")})
    assert lint_in_process(tmp_path / "test.py", "GL215") == []
    assert lint_in_process(tmp_path / "logged.py", "GL215") == []


def test_a_loss_that_is_read_otherwise_is_still_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODEL, "test.py": TEST_SCRIPT.format(read="loss.cpu().detach().numpy()")
                             + "        loss.backward()\n"})
    [finding] = lint_in_process(tmp_path / "test.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 15)
