"""GL215 shapes of held-out rounds 66–69, in our own words: a loss picked by a constant
switch of the script (``LOSS = "softmaxcb"``, then ``if LOSS == "ce": criterion =
nn.CrossEntropyLoss()``) is the arm the constant takes (round 66/a's gesture notebook, read
once notebooks were linted), and (round 70s) a training helper whose loss sits in an arm of a
string parameter the call passes another value for."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

SWITCHED = """\
    import torch
    import torch.nn as nn


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(32, 5), nn.Softmax(dim=-1))

        def forward(self, x):
            return self.body(x)


    class BalancedLoss(nn.Module):
        def forward(self, probs, labels):
            return -(probs.clamp_min(1e-7).log() * nn.functional.one_hot(labels, 5)).sum(1).mean()


    LOSS = "{loss}"
    model = Classifier()
    if LOSS == "balanced":
        criterion = BalancedLoss()
    elif LOSS == "ce":
        criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters())


    def train(loader):
        for x, y in loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("loss", "expected"), [("ce", [("GL215", 30)]), ("balanced", [])])
def test_a_loss_picked_by_a_constant_switch(tmp_path: Path, loss: str, expected: list) -> None:
    write_project(tmp_path, {"train.py": SWITCHED.format(loss=loss)})
    findings = lint_in_process(tmp_path / "train.py", "GL215")
    assert [(f.code, f.line) for f in findings] == expected


PROBE = """\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Logit(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(16, 1)

        def forward(self, x):
            return self.fc(x).squeeze(1)


    class Prob(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Sequential(nn.Linear(16, 1), nn.Sigmoid())

        def forward(self, x):
            return self.fc(x).squeeze(1)


    def train_probe(model, loader, loss_kind, epochs=5):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for epoch in range(epochs):
            for x, y in loader:
                out = model(x)
                if loss_kind == "logits":
                    loss = F.binary_cross_entropy_with_logits(out, y)
                else:
                    loss = F.binary_cross_entropy(out, y)
                opt.zero_grad()
                loss.backward()
                opt.step()


    train_probe(Logit(), loader, "logits")
    train_probe(Prob(), loader, "{kind}")
"""


@pytest.mark.parametrize(("kind", "expected"), [("probs", []), ("logits", [("GL215", 30)])])
def test_a_helper_whose_loss_is_in_an_arm_the_call_skips(tmp_path: Path, kind: str, expected: list) -> None:
    """Round 70s/b's crop probes (a look-alike the first run reported): one training helper
    picks the loss by a string parameter, and each call passes the one that fits its model;
    the sigmoid model never reaches ``binary_cross_entropy_with_logits``."""
    write_project(tmp_path, {"probe.py": PROBE.format(kind=kind)})
    findings = lint_in_process(tmp_path / "probe.py", "GL215")
    assert [(f.code, f.line) for f in findings] == expected
