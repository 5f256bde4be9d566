"""GL215 in a notebook that reuses one name cell after cell (held-out round 84/c, in our own
words): ``model`` is first a logistic model ending in a sigmoid trained with ``BCELoss``
(right), then a classifier ending in ``nn.Softmax`` trained with ``CrossEntropyLoss``
(wrong). Each loss reads the model its own cell bound."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

CELLS = """\
import torch
import torch.nn as nn


class Logistic(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.linear = nn.Linear(n, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


model = Logistic(4)
criterion = nn.BCELoss()
for epoch in range(10):
    loss = criterion(model(X), Y)
    loss.backward()


class IrisNet(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.fc(x))


model = IrisNet(4, 3)
criterion = nn.CrossEntropyLoss()
for epoch in range(200):
    out = model(x_train)
    loss = criterion(out, y_train)
    loss.backward()
{after}"""

PLAIN_AFTER = """

class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)


model = Plain()
criterion = nn.CrossEntropyLoss()
for epoch in range(5):
    loss = criterion(model(x_train), y_train)
    loss.backward()
"""


def test_each_cell_reads_the_model_it_bound(tmp_path: Path) -> None:
    write_project(tmp_path, {"notebook.py": CELLS.format(after="")})
    [finding] = lint_in_process(tmp_path / "notebook.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 35)
    assert finding.message.startswith("IrisNet's output (line 25) is softmax probabilities, and this line feeds it "
                                      "to CrossEntropyLoss")


def test_a_later_plain_model_under_the_same_name_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"notebook.py": CELLS.format(after=PLAIN_AFTER)})
    assert [(f.code, f.line) for f in lint_in_process(tmp_path / "notebook.py", "GL215")] == [("GL215", 35)]
