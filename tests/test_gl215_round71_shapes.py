"""GL215 shapes of held-out round 71 (``bench/heldout/round71``), in our own words."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ACTION_RECOGNITION = """\
    import torch
    import torch.nn as nn


    class ClipClassifier(nn.Module):
        def __init__(self, classes):
            super().__init__()
            self.lstm = nn.LSTM(64, 128, batch_first=True)
            self.out = nn.Sequential(nn.Linear(128, classes), nn.Softmax(dim=-1))

        def forward(self, x):
            h, _ = self.lstm(x)
            return self.out(h[:, -1])


    criterion = nn.CrossEntropyLoss()
    model = ClipClassifier(10)
    optimizer = torch.optim.Adam(model.parameters())


    def test_model(loader):
        model.eval()
        for clips, labels in loader:
            with torch.no_grad():
                predictions = model(clips)
            loss = criterion(predictions, labels).item()
            print(loss)


    for epoch in range(10):
        model.train()
        for clips, labels in []:
            optimizer.zero_grad()
            predictions = model(clips)
            loss = criterion(predictions, labels)
            loss.backward()
            optimizer.step()
        test_model([])
"""


def test_the_training_loss_is_reported_not_an_evaluation_number_before_it(tmp_path: Path) -> None:
    """Round 71/a's two action-recognition scripts (one upstream): the test function, earlier
    in the file, computes ``criterion(predictions, labels).item()`` outside its no_grad block;
    that loss trains nothing, and the finding belongs on the training loop's loss call."""
    write_project(tmp_path, {"train.py": ACTION_RECOGNITION})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 35)
    assert finding.message.startswith("ClipClassifier's output (line 9) is softmax probabilities, and this line "
                                      "feeds it to CrossEntropyLoss")


def test_a_file_computing_the_loss_only_as_a_number_is_quiet(tmp_path: Path) -> None:
    only_evaluation = ACTION_RECOGNITION.split("    for epoch in range(10):")[0] + "    loss = 0\n    loss.backward\n"
    write_project(tmp_path, {"train.py": only_evaluation})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []
