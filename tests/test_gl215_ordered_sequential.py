"""GL215 on a ``Sequential`` built from an ``OrderedDict`` of named layers: its last pair's
layer is the model's ending. Held-out round 12 (/work/heldout37, a lottery-ticket
experiment whose LeNet classifier ends in ``("softmax", nn.Softmax(dim=1))``) shaped it."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

NETS = """\
    from collections import OrderedDict

    import torch.nn as nn


    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.classifier = nn.Sequential(
                OrderedDict(
                    [
                        ("first_linear", nn.Linear(400, 84)),
                        ("relu", nn.ReLU()),
                        ("last_linear", nn.Linear(84, 10)),
                        {last}
                    ]
                )
            )

        def forward(self, x):
            return self.classifier(x.flatten(1))
"""

TRAIN = """\
    import torch

    from nets import LeNet

    model = LeNet()
    criterion = torch.nn.{loss}()
    optimizer = torch.optim.Adam(model.parameters())
    for data, targets in []:
        optimizer.zero_grad()
        loss = criterion(model(data), targets)
        loss.backward()
        optimizer.step()
"""


def test_an_ordered_sequential_ending_in_softmax_into_cross_entropy(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": NETS.format(last='("softmax", nn.Softmax(dim=1)),'),
                             "train.py": TRAIN.format(loss="CrossEntropyLoss")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 10)
    assert finding.message.startswith("LeNet's output (nets.py:15) is softmax probabilities, and this line feeds it "
                                      "to CrossEntropyLoss")


def test_an_ordered_sequential_ending_in_its_linear_layer_is_logits(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": NETS.format(last=""), "train.py": TRAIN.format(loss="CrossEntropyLoss")})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []
    # the same model in the training script's own file, trained with BCELoss: raw logits
    script = NETS.format(last="") + "\n\n" + TRAIN.format(loss="BCELoss").replace("    from nets import LeNet\n", "")
    write_project(tmp_path, {"one.py": script})
    [finding] = lint_in_process(tmp_path / "one.py", "GL215")
    assert "is raw logits (its last layer is nn.Linear)" in finding.message
