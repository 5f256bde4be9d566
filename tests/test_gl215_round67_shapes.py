"""GL215 shapes of held-out round 67 (``bench/heldout/round67``), in our own words: a model
module loaded with ``import_module("models." + name)``, its class built from the module
object and trained with ``F.cross_entropy`` in a helper (67/c's text RNN)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

RNN = """\
    import torch.nn as nn


    class TextRNN(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.rnn = nn.LSTM(300, 128, batch_first=True)
            self.fc = nn.Linear(128, config.classes)
            self.softmax = nn.Softmax(dim=-1)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.softmax(self.fc(out[:, -1]))
"""

TRAIN = """\
    import torch
    import torch.nn.functional as F


    def train(config, model, batches):
        opt = torch.optim.Adam(model.parameters())
        for x, y in batches:
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
"""

RUN = """\
    from importlib import import_module

    from train_eval import train


    def main(config, batches):
        {name}
        x = import_module({module})
        model = x.TextRNN(config)
        train(config, model, batches)
"""


@pytest.mark.parametrize(("name", "module", "expected"), [
    ('model_name = "TextRNN"', '"models." + model_name', [("GL215", 10)]),
    ("pass", '"models.TextRNN"', [("GL215", 10)]),
    ("model_name = input()", '"models." + model_name', []),  # a name chosen at run time: not followed
])
def test_a_model_module_loaded_with_import_module(tmp_path: Path, name: str, module: str, expected: list) -> None:
    write_project(tmp_path, {"models/__init__.py": "", "models/TextRNN.py": RNN, "train_eval.py": TRAIN,
                             "run.py": RUN.format(name=name, module=module)})
    findings = lint_in_process(tmp_path / "run.py", "GL215")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("TextRNN's output (models/TextRNN.py:" in f.message for f in findings)


UTILS = """\
    import torch


    def retrieve_loss_function(configuration):
        name = configuration["training"]["loss"]
        if name == "cross_entropy":
            return torch.nn.CrossEntropyLoss()
        elif name == "sigmoid":
            return torch.nn.Sigmoid()
        return {other}
"""

FAKENEWS = """\
    import torch
    import torch.nn as nn
    import utils.utils as utils


    class Fusion(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(64, 2)
            self.softmax = nn.Softmax(dim=1)

        def forward(self, x):
            return self.softmax(self.fc(x))


    def main(configuration, batches):
        model = Fusion()
        loss_function = utils.{factory}(configuration)
        opt = torch.optim.Adam(model.parameters())
        for x, y in batches:
            loss = loss_function(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
"""


@pytest.mark.parametrize(("other", "factory", "expected"), [
    ("torch.nn.CrossEntropyLoss()", "retrieve_loss_function", [("GL215", 21)]),
    ("torch.nn.NLLLoss()", "retrieve_loss_function", []),  # two kinds of loss: which one runs is the configuration's
    ("torch.nn.CrossEntropyLoss()", "retrieve_optimizer", []),  # not a loss factory by its name: not read
])
def test_a_loss_built_by_a_project_function_of_a_configuration(tmp_path: Path, other: str, factory: str,
                                                               expected: list) -> None:
    """67/c's multimodal fake-news model: ``loss_function = utils.retrieve_loss_function(cfg)``,
    every loss it returns a CrossEntropyLoss, fed the softmax output."""
    write_project(tmp_path, {"utils/__init__.py": "", "utils/utils.py": UTILS.format(other=other).replace(
        "def retrieve_loss_function", f"def {factory}"), "train.py": FAKENEWS.format(factory=factory)})
    findings = lint_in_process(tmp_path / "train.py", "GL215")
    assert [(f.code, f.line) for f in findings] == expected
