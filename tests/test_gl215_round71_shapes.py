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


HEADS = """\
    from torch import nn


    class Head(nn.Module):
        def __init__(self, n_output):
            super().__init__()
            self.layers = [nn.Flatten(), nn.Linear(512, 256), nn.Linear(256, n_output), {last}]
            self.model = nn.Sequential(*self.layers)

        def forward(self, x):
            return self.model(x)
"""

PREDICTOR = """\
    import torch
    from torch import nn

    from network import Head


    class AgePredictor(nn.Module):
        def __init__(self):
            super().__init__()
            self.age_model = Head(n_output=8)
            self.criterion = nn.CrossEntropyLoss()
            self.optimizer = torch.optim.Adam(self.age_model.parameters(), lr=1e-3)

        def forward(self, batch):
            self.age_pred = self.age_model(batch["img"])
            self.age_real = batch["age"]
            return torch.argmax(self.age_pred, dim=1)

        def optimize_parameters(self):
            self.optimizer.zero_grad()
            self.age_loss = self.criterion(self.age_pred, self.age_real)
            self.age_loss.backward()
            self.optimizer.step()
"""


def test_an_output_kept_on_the_module_and_a_layer_list_kept_too(tmp_path: Path) -> None:
    """Round 71/c's age and gender predictor: the head keeps its layers as ``self.layers``
    (ending in ``nn.Softmax``) for ``nn.Sequential(*self.layers)``; the predictor keeps the
    head's output as ``self.age_pred`` in ``forward`` and ``optimize_parameters`` feeds it
    to ``CrossEntropyLoss``."""
    write_project(tmp_path, {"network.py": HEADS.format(last="nn.Softmax(dim=1)"), "model.py": PREDICTOR})
    [finding] = lint_in_process(tmp_path / "model.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 21)
    assert finding.message.startswith("Head's output (network.py:7) is softmax probabilities, and this line feeds "
                                      "it to CrossEntropyLoss")


def test_the_same_layout_ending_in_logits_or_binding_the_attribute_twice_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"network.py": HEADS.format(last="nn.ReLU()"), "model.py": PREDICTOR})
    assert lint_in_process(tmp_path / "model.py", "GL215") == []
    write_project(tmp_path, {"network.py": HEADS.format(last="nn.Softmax(dim=1)"),
                             "model.py": PREDICTOR.replace("        self.age_real = batch[\"age\"]\n",
                                                           "        self.age_real = batch[\"age\"]\n"
                                                           "        self.age_pred = self.age_pred.log()\n")})
    assert lint_in_process(tmp_path / "model.py", "GL215") == []


FACTORY = """\
    import torch
    from torch import nn


    class Regressor(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(16, 1)

        def forward(self, x):
            return self.fc(x)


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(16, 3)

        def forward(self, x):
            return torch.softmax(self.fc(x), dim=1)


    def create_model(model_type="regressor"):
        model = Regressor() if model_type == "regressor" else Classifier()
        return model
"""

FACTORY_TRAIN = """\
    import torch
    from torch import nn

    from utils import create_model


    def train_model(model, optimizer, loss_function, loader):
        for x, y in loader:
            model.zero_grad()
            loss = loss_function(model(x), y)
            loss.backward()
            optimizer.step()


    model = create_model(model_type="classifier")
    optimizer = torch.optim.Adam(model.parameters())
    train_model(model, optimizer, nn.CrossEntropyLoss(), [])
"""


def test_a_factory_choosing_its_class_in_a_conditional_expression(tmp_path: Path) -> None:
    """Round 71/c's laser-profile classifier: ``model = Regressor(...) if model_type ==
    'regressor' else Classifier(...)`` in a project helper; the classifier arm ends in
    softmax and the script trains it with ``CrossEntropyLoss`` through ``train_model``."""
    write_project(tmp_path, {"utils.py": FACTORY, "train.py": FACTORY_TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert finding.code == "GL215" and finding.line == 10
    assert finding.message.startswith("Classifier's output (utils.py:20; `create_model` can build a Classifier) is "
                                      "softmax probabilities")
