"""GL215 shapes of held-out round 73 (``bench/heldout/round73``), in our own words: a text
classifier whose heads are picked in an ``if``/``elif`` chain of ``forward``, and an
evaluation script whose loss is only ever read as a number."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

HEADS = """\
    import torch.nn as nn


    class TextClassifier(nn.Module):
        def __init__(self, encoder, classes, head=1):
            super().__init__()
            self.encoder = encoder
            self.linear = nn.Linear(768, classes)
            self.hidden = nn.Linear(768, 256)
            self.out = nn.Linear(256, classes)
            self.softmax = nn.Softmax(dim=1)
            self.head = head

        def forward(self, ids):
            outputs = self.encoder(ids)[0][:, 0]
            if self.head == 1:
                outputs = self.linear(outputs)
                outputs = self.softmax(outputs)
            elif self.head == 2:
                outputs = self.hidden(outputs).relu()
                outputs = self.out(outputs)
                {second_ending}
            return outputs
"""

TRAINING = """\
    import torch
    import torch.nn as nn

    from heads import TextClassifier


    def train(encoder, loader):
        model = TextClassifier(encoder, 11)
        optimizer = torch.optim.Adam(model.parameters(), lr=2e-5)
        loss_f = nn.CrossEntropyLoss()
        for ids, labels in loader:
            optimizer.zero_grad()
            loss = loss_f(model(ids), labels)
            loss.backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("second_ending", "expected"), [("outputs = self.softmax(outputs)", [("GL215", 13)]),
                                                         ("pass", [])])
def test_every_arm_of_a_head_switch_ending_in_softmax(tmp_path: Path, second_ending: str, expected: list) -> None:
    """Round 73/c's BERT classifier: each arm of ``if self.head == 1: ... elif ...`` ends with
    ``outputs = self.softmax(outputs)`` and ``forward`` returns ``outputs``, so the model's
    output is probabilities whichever head is built. One arm returning logits: nothing to say."""
    write_project(tmp_path, {"heads.py": HEADS.format(second_ending=second_ending), "train.py": TRAINING})
    findings = lint_in_process(tmp_path / "train.py", "GL215")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert findings[0].message.startswith("TextClassifier's output (heads.py:11) is softmax probabilities, and "
                                              "this line feeds it to CrossEntropyLoss")


EVALUATION = """\
    import torch
    import torch.nn as nn

    from heads import TextClassifier


    def evaluate(encoder, loader):
        model = TextClassifier(encoder, 11)
        model.load_state_dict(torch.load("model.pt"))
        model.eval()
        loss_fn = nn.CrossEntropyLoss()
        total = 0.0
        for ids, labels in loader:
            logits = model(ids)
            loss = loss_fn(logits, labels)
            total += loss.{read}
        return total / len(loader)
"""


@pytest.mark.parametrize(("read", "expected"), [("item()", []), ("backward() or 0.0", [("GL215", 15)])])
def test_an_evaluation_loss_only_read_as_a_number_trains_nothing(tmp_path: Path, read: str, expected: list) -> None:
    """Round 73/c's evaluation script: ``loss = loss_fn(logits, labels)`` then ``val_loss +=
    loss.item()`` measures the model and trains nothing; the training script's loss is the
    one to report. A loss the function also backpropagates is a training loss."""
    heads = HEADS.format(second_ending="outputs = self.softmax(outputs)")
    write_project(tmp_path, {"heads.py": heads, "evaluate.py": EVALUATION.format(read=read)})
    findings = lint_in_process(tmp_path / "evaluate.py", "GL215")
    assert [(f.code, f.line) for f in findings] == expected
