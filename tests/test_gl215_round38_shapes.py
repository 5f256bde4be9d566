"""GL215 shapes from held-out round 38 (real code, ``bench/heldout/round38``): course
exercises (round 38/b, copasta) whose loss is a module-level function of the script (``def
loss_fn(pred, label): return nn.CrossEntropyLoss()(pred, label)``), one of which rebinds its
output layer in ``__init__`` (``self.out = nn.Linear(...)`` then ``self.out =
nn.Softmax(dim=1)``), and one that only evaluates the loss once (no backward: it trains
nothing); and a trainer class (round 38/a, dr4thmos) whose only method applying
``BCEWithLogitsLoss`` to a sigmoid head is an evaluation no training method calls."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

EXERCISE = """\
import torch
import torch.nn as nn


class NeuralNet(nn.Module):
    def __init__(self, vector_size, output_size=4):
        super().__init__()
        self.linear = nn.Linear(vector_size, vector_size)
        self.out = nn.Linear(vector_size, output_size)
        self.out = nn.{last}

    def forward(self, x):
        h = self.linear(x)
        out = self.out(h)
        return out


def loss_fn(pred, label):
    loss = nn.CrossEntropyLoss()(pred, label)
    return loss


X = torch.randn(8, 300)
y = torch.zeros(8, dtype=torch.long)
model = NeuralNet(300, 4)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
{loop}
"""

TRAINING = """for epoch in range(100):
    optimizer.zero_grad()
    y_pred = model(X)
    loss = loss_fn(y_pred, y)
    loss.backward()
    optimizer.step()"""


def test_an_output_layer_reassigned_in_init_and_a_loss_function_of_the_script(tmp_path: Path) -> None:
    write_project(tmp_path, {"prob79.py": EXERCISE.format(last="Softmax(dim=1)", loop=TRAINING)})
    [finding] = lint_in_process(tmp_path / "prob79.py", "GL215")
    assert finding.line == 30
    assert "NeuralNet's output (line 14) is softmax probabilities, and this line hands it to `loss_fn`" in finding.message


def test_the_output_layer_reassigned_back_to_a_linear_layer_is_not_reported(tmp_path: Path) -> None:
    exercise = EXERCISE.format(last="Softmax(dim=1)", loop=TRAINING).replace(
        "        self.out = nn.Linear(vector_size, output_size)\n        self.out = nn.Softmax(dim=1)\n",
        "        self.out = nn.Softmax(dim=1)\n        self.out = nn.Linear(vector_size, output_size)\n")
    write_project(tmp_path, {"prob79.py": exercise})
    assert lint_in_process(tmp_path / "prob79.py", "GL215") == []


def test_a_script_evaluating_the_loss_once_without_backward_is_not_reported(tmp_path: Path) -> None:
    once = "y_pred = model(X)\nprint(y_pred)\nloss = loss_fn(y_pred, y)\nprint(loss)"
    write_project(tmp_path, {"prob72.py": EXERCISE.format(last="Softmax(dim=1)", loop=once)})
    assert lint_in_process(tmp_path / "prob72.py", "GL215") == []


TRAINER = """\
import torch
import torch.nn as nn


class Trainer:
    def __init__(self, encoder, classifier, optimizer):
        self.encoder = encoder
        self.classifier = classifier
        self.optimizer = optimizer
        self.classification_loss = nn.BCEWithLogitsLoss()

    def train(self, loader):
        for x, y in loader:
            loss = self.encoder(x).pow(2).mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step(){call}

    def evaluate_classifier(self, x, y):
        with torch.no_grad():
            features = self.encoder(x)
        predicted = self.classifier(features)
        return self.classification_loss(predicted, y)
"""

MAIN = """\
import torch
import torch.nn as nn
from trainer import Trainer

classifier = nn.Sequential(nn.Linear(512, 10), nn.Sigmoid())
encoder = nn.Linear(32, 512)
trainer = Trainer(encoder, classifier, torch.optim.SGD(encoder.parameters(), lr=0.1))
trainer.train([])
"""


def test_an_evaluation_method_no_training_method_calls_is_not_a_training_helper(tmp_path: Path) -> None:
    write_project(tmp_path, {"trainer.py": TRAINER.format(call=""), "main.py": MAIN})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []


def test_the_same_method_called_by_the_training_loop_is_one(tmp_path: Path) -> None:
    call = "\n            self.evaluate_classifier(x, y).backward()"
    write_project(tmp_path, {"trainer.py": TRAINER.format(call=call), "main.py": MAIN})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert finding.line == 7 and "which feeds it to BCEWithLogitsLoss" in finding.message


# round 38/c, kutalekj: a sigmoid discriminator trained through pix2pix's ``GANLoss``, a loss
# class of the project whose ``__call__`` applies ``BCEWithLogitsLoss`` for ``gan_mode='vanilla'``
GAN = {
    "models.py": """\
import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.features_to_prob = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())

    def forward(self, x):
        return self.features_to_prob(x)


class GANLoss(nn.Module):
    def __init__(self, gan_mode="vanilla", real_label=1.0, fake_label=0.0):
        super().__init__()
        self.register_buffer("real_label", torch.tensor(real_label))
        self.register_buffer("fake_label", torch.tensor(fake_label))
        if gan_mode == "vanilla":
            self.loss = nn.BCEWithLogitsLoss()
        elif gan_mode == "lsgan":
            self.loss = nn.MSELoss()

    def get_labels(self, preds, target_is_real):
        return (self.real_label if target_is_real else self.fake_label).expand_as(preds)

    def __call__(self, preds, target_is_real):
        labels = self.get_labels(preds, target_is_real)
        return self.loss(preds, labels)
""",
    "training.py": """\
import models


class Trainer:
    def __init__(self, discriminator, optimizer):
        self.D = discriminator
        self.D_opt = optimizer
        self.gan_criterion = models.GANLoss(gan_mode="{mode}")

    def train(self, loader):
        for x in loader:
            self.D_opt.zero_grad()
            loss = self.gan_criterion(self.D(x), True)
            loss.backward()
            self.D_opt.step()
""",
    "main.py": """\
import torch
from models import Discriminator
from training import Trainer

discriminator = Discriminator()
trainer = Trainer(discriminator, torch.optim.Adam(discriminator.parameters()))
trainer.train([])
""",
}


def test_a_loss_class_of_the_project_applying_bce_with_logits(tmp_path: Path) -> None:
    write_project(tmp_path, {**GAN, "training.py": GAN["training.py"].replace("{mode}", "vanilla")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert finding.line == 6
    assert ("Discriminator's output (models.py:8) is sigmoid probabilities, and this line hands it to `Trainer` "
            "(training.py:13), which feeds it to BCEWithLogitsLoss") in finding.message


def test_the_same_loss_class_in_its_least_squares_mode_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {**GAN, "training.py": GAN["training.py"].replace("{mode}", "lsgan")})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []
