"""GL215 shapes from held-out round 39 (real code, ``bench/heldout/round39``), in our own
words: course exercises (round 39/b, a cohort's shared homework repository) whose model
keeps the activation *function* as an attribute (``self.activation = torch.softmax``, then
``self.activation(x, dim=1)``), computes its own loss in ``forward`` when given labels,
and rebinds one name through the layers (``y_pred = self.linear(x)``; ``y_pred =
self.activation(y_pred, dim=1)``)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

HOMEWORK = """\
import torch
import torch.nn as nn


class TorchModel(nn.Module):
    def __init__(self, input_size):
        super().__init__()
        self.linear = nn.Linear(input_size, 3)
        self.activation = {activation}
        self.loss = {loss}

    def forward(self, x, y=None):
        y_pred = self.linear(x)
        {applied}
        if y is not None:
            return self.loss(y_pred, y)
        return {returned}


def main(batches):
    model = TorchModel(5)
    optim = torch.optim.Adam(model.parameters(), lr=0.001)
    for epoch in range(20):
        model.train()
        for x, y in batches:
            loss = model(x, y)
            loss.backward()
            optim.step()
            optim.zero_grad()
"""

APPLIED = "y_pred = self.activation(y_pred, dim=1)"


def _lint(tmp_path: Path, activation: str, loss: str = "nn.CrossEntropyLoss()", applied: str = APPLIED,
          returned: str = "y_pred") -> list:
    source = HOMEWORK.format(activation=activation, loss=loss, applied=applied, returned=returned)
    write_project(tmp_path, {"homework.py": source})
    return lint_in_process(tmp_path / "homework.py", "GL215")


def test_a_softmax_function_kept_as_an_attribute_and_the_loss_in_forward(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "torch.softmax")
    assert finding.line == 16
    assert finding.message.startswith("`y_pred = self.activation(y_pred, dim=1)` (line 14) is softmax probabilities")
    assert "feeds it to CrossEntropyLoss" in finding.message


def test_the_functional_spellings_and_a_functional_loss(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "nn.functional.softmax", loss="nn.functional.cross_entropy")
    assert finding.line == 16 and "feeds it to F.cross_entropy" in finding.message


def test_a_sigmoid_function_into_cross_entropy(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "torch.sigmoid", applied="y_pred = self.activation(y_pred)")
    assert finding.line == 16 and "is sigmoid probabilities" in finding.message


def test_softmax_applied_only_to_the_prediction_is_quiet(tmp_path: Path) -> None:
    # the labels' branch gets the logits; only the prediction is a softmax
    assert _lint(tmp_path, "torch.softmax", applied="pass", returned="self.activation(y_pred, dim=1)") == []


def test_another_function_kept_as_an_attribute_is_quiet(tmp_path: Path) -> None:
    assert _lint(tmp_path, "torch.log_softmax") == []


REBOUND_PARAMETER = """\
import torch
import torch.nn as nn


class MultiClassModel(nn.Module):
    def __init__(self, input_dim, n_class):
        super().__init__()
        self.linear = nn.Linear(input_dim, n_class)
        self.softmax = nn.Softmax(dim=1)
        self.ce = nn.CrossEntropyLoss()

    def forward(self, x, y=None, probabilities=False):
        x = self.linear(x)
        {softmax}
        if y is not None:
            return self.ce(x, y)
        return x


model = MultiClassModel(5, 5)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in []:
    loss = model(x, y)
    loss.backward()
    optimizer.step()
"""


def test_a_parameter_rebound_to_probabilities_before_the_loss(tmp_path: Path) -> None:
    write_project(tmp_path, {"home_work.py": REBOUND_PARAMETER.format(softmax="x = self.softmax(x)")})
    [finding] = lint_in_process(tmp_path / "home_work.py", "GL215")
    assert finding.line == 16 and finding.message.startswith("`x = self.softmax(x)` (line 14) is softmax probabilities")


def test_a_softmax_only_in_a_branch_before_the_loss_is_not_read(tmp_path: Path) -> None:
    source = REBOUND_PARAMETER.format(softmax="if probabilities:\n            x = self.softmax(x)")
    write_project(tmp_path, {"home_work.py": source})
    assert lint_in_process(tmp_path / "home_work.py", "GL215") == []


# round 39/c (zjw511, an InfoGAN): the discriminator returns three elements when it has
# discrete codes (the middle one from a softmax head) and two otherwise; the trainer unpacks
# three and feeds the middle one to CrossEntropyLoss
INFOGAN = """\
import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, n_codes):
        super().__init__()
        self.n_codes = n_codes
        self.body = nn.Linear(64, 128)
        self.validity = nn.Linear(128, 1)
        self.codes = nn.Sequential(nn.Linear(128, 10), nn.Softmax(dim=1))
        self.mu = nn.Linear(128, 2)

    def forward(self, x):
        h = self.body(x)
        if self.n_codes != 0:
            return self.validity(h), self.codes(h), self.mu(h)
        return self.validity(h), self.mu(h)


D = Discriminator(1)
optimizer = torch.optim.Adam(D.parameters())
categorical_loss = nn.CrossEntropyLoss()
for x, label in []:
    optimizer.zero_grad()
    {unpacked} = D(x)
    loss = categorical_loss({fed}, label)
    loss.backward()
    optimizer.step()
"""


def _infogan(tmp_path: Path, unpacked: str, fed: str) -> list:
    write_project(tmp_path, {"infogan.py": INFOGAN.format(unpacked=unpacked, fed=fed)})
    return lint_in_process(tmp_path / "infogan.py", "GL215")


def test_an_element_of_the_longer_tuple_unpacked_into_as_many_names(tmp_path: Path) -> None:
    [finding] = _infogan(tmp_path, "validity, codes, mu", "codes")
    assert finding.line == 27
    assert finding.message.startswith("element 1 of the 3-element tuple Discriminator's forward returns (line 11)")


def test_the_shorter_tuples_element_at_that_position_is_not_the_softmax(tmp_path: Path) -> None:
    assert _infogan(tmp_path, "validity, mu", "mu") == []


def test_an_indexed_element_may_come_from_either_return(tmp_path: Path) -> None:
    assert _infogan(tmp_path, "out", "out[1]") == []
