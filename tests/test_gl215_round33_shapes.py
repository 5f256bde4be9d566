"""GL215 shapes from held-out round 33 (real code, ``bench/heldout/round33``): a sentence
classifier of one module ends in ``nn.Softmax`` (built in a method ``__init__`` calls),
and the training helper of the same module runs the model in a closure it defines and
calls each epoch (``def train(data, label): ... F.cross_entropy(model(x), y)``); the
script hands the model to that helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

MODEL = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class SentenceNet(nn.Module):
    def __init__(self, n_words, n_classes):
        super().__init__()
        self.build(n_words, n_classes)

    def build(self, n_words, n_classes):
        self.embed = nn.EmbeddingBag(n_words, 32)
        self.pred = nn.Linear(32, n_classes)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, tokens):
        return self.{last}(self.pred(self.embed(tokens)))


def run_classifier(epochs, model, batches):
    optimizer = torch.optim.Adam(model.parameters())

    def train(data, label):
        total = 0.0
        for tokens, target in zip(data, label):
            optimizer.zero_grad()
            output = {fed}
            loss = F.cross_entropy(output, target)
            loss.backward()
            optimizer.step()
            total += loss.item()
        return total

    for epoch in range(epochs):
        model.train()
        train(*batches)
"""

SCRIPT = """\
from sentence import SentenceNet, run_classifier

model = SentenceNet(1000, 4)
run_classifier(3, model, ([], []))
"""


def test_a_closure_of_the_helper_feeding_the_softmax_output_to_cross_entropy(tmp_path: Path) -> None:
    write_project(tmp_path, {"sentence.py": MODEL.format(last="softmax", fed="model(tokens)"), "main.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert finding.code == "GL215" and finding.line == 4
    assert "SentenceNet's output (sentence.py:14) is softmax probabilities" in finding.message
    assert "hands it to `run_classifier` (sentence.py:28), which feeds it to F.cross_entropy" in finding.message


@pytest.mark.parametrize(("last", "fed"), [
    ("pred", "model(tokens)"),  # raw logits: right
    ("softmax", "other(tokens)"),  # the closure runs another model than the one handed in
])
def test_the_closure_with_logits_or_another_model_is_not_reported(tmp_path: Path, last: str, fed: str) -> None:
    text = MODEL.format(last=last, fed=fed).replace("    def train(data, label):", "    other = nn.Linear(4, 4)\n\n"
                                                                                    "    def train(data, label):")
    write_project(tmp_path, {"sentence.py": text, "main.py": SCRIPT})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []


def test_a_closure_that_binds_its_own_model_is_not_the_helper_s(tmp_path: Path) -> None:
    text = MODEL.format(last="softmax", fed="model(tokens)").replace(
        "        total = 0.0\n", "        total = 0.0\n        model = nn.Linear(32, 4)\n")
    write_project(tmp_path, {"sentence.py": text, "main.py": SCRIPT})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []
