"""GL215 shapes from held-out round 37 (real code, ``bench/heldout/round37``): a textbook
classifier whose ``forward`` builds its softmax layer and applies it at once
(``x = nn.Softmax(dim=1)(x)``), trained with ``nn.CrossEntropyLoss`` (round 37/b, a book's
chapter 12 and a learner's copy of it), and a network handed to a LightningModule through a
function of a package the repository installs from a folder of its own (round 37/a)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

IRIS = """\
import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.layer1 = nn.Linear(input_size, hidden_size)
        self.layer2 = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        x = self.layer1(x)
        x = nn.Sigmoid()(x)
        x = self.layer2(x)
        {ending}


model = Model(4, 16, 3)
loss_fn = nn.{loss}()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
for epoch in range(100):
    for x_batch, y_batch in []:
        pred = model(x_batch)
        loss = loss_fn(pred, y_batch.long())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
"""


@pytest.mark.parametrize("ending", ["x = nn.Softmax(dim=1)(x)\n        return x", "return nn.Softmax(dim=1)(x)"])
def test_a_softmax_layer_built_and_applied_in_forward(tmp_path: Path, ending: str) -> None:
    write_project(tmp_path, {"iris.py": IRIS.format(ending=ending, loss="CrossEntropyLoss")})
    [finding] = lint_in_process(tmp_path / "iris.py", "GL215")
    assert finding.line == 24 + ending.count("\n")
    assert "Model's output (line 15) is softmax probabilities, and this line feeds it to CrossEntropyLoss" in finding.message


def test_the_inline_softmax_into_kl_divergence_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"iris.py": IRIS.format(ending="return nn.Softmax(dim=1)(x)", loss="KLDivLoss")})
    assert lint_in_process(tmp_path / "iris.py", "GL215") == []


def test_the_hidden_sigmoid_layer_is_not_the_output(tmp_path: Path) -> None:
    write_project(tmp_path, {"iris.py": IRIS.format(ending="return x", loss="CrossEntropyLoss")})
    assert lint_in_process(tmp_path / "iris.py", "GL215") == []


# round 37/a, AlbertoSaretto: the project installs its package from a folder of its own
# (``MGR/setup.py``, ``MGR/mgr/``); a script beside it hands its softmax network to
# ``main_train``, which wraps it in a LightningModule imported inside the function, whose
# ``training_step`` applies ``F.cross_entropy`` to ``self.net(x)``
PACKAGE = {
    "MGR/setup.py": "from setuptools import setup\nsetup(name='mgr', packages=['mgr'])\n",
    "MGR/mgr/__init__.py": "",
    "MGR/mgr/models.py": """\
import lightning.pytorch as pl
import torch.nn as nn
import torch.nn.functional as F
from torch.optim import Adam


class LitNet(pl.LightningModule):
    def __init__(self, model_net):
        super().__init__()
        self.net = model_net

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx=None):
        x_batch, label_batch = batch
        out = self.net(x_batch)
        loss = F.cross_entropy(out, label_batch)
        return loss

    def configure_optimizers(self):
        return Adam(self.parameters())


class GenreNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(64, 8){ending})

    def forward(self, x):
        return self.fc(x)
""",
    "MGR/mgr/training.py": """\
import lightning.pytorch as pl


def main_train(model_net, loaders, max_epochs=10):
    from mgr.models import LitNet

    trainer = pl.Trainer(max_epochs=max_epochs)
    model = LitNet(model_net)
    trainer.fit(model, *loaders)
    return model
""",
    "CNN/train_genres.py": """\
from mgr.models import GenreNet
from mgr.training import main_train

if __name__ == "__main__":
    main_train(model_net=GenreNet(), loaders=([], []))
""",
}


def test_a_network_handed_to_a_lightning_module_of_an_installed_package(tmp_path: Path) -> None:
    files = {**PACKAGE, "MGR/mgr/models.py": PACKAGE["MGR/mgr/models.py"].replace("{ending}", ", nn.Softmax(dim=1)")}
    write_project(tmp_path, files)
    [finding] = lint_in_process(tmp_path / "CNN" / "train_genres.py", "GL215")
    assert finding.line == 5
    assert ("GenreNet's output (../MGR/mgr/models.py:28) is softmax probabilities, and this line hands it to "
            "`main_train` (../MGR/mgr/training.py:8), which feeds it to F.cross_entropy") in finding.message


def test_the_logits_network_handed_to_the_lightning_module_is_not_reported(tmp_path: Path) -> None:
    files = {**PACKAGE, "MGR/mgr/models.py": PACKAGE["MGR/mgr/models.py"].replace("{ending}", "")}
    write_project(tmp_path, files)
    assert lint_in_process(tmp_path / "CNN" / "train_genres.py", "GL215") == []


# round 37/b, a book's chapters exported as scripts: chapter 12 first fits a linear regression
# with ``def model(xb)`` and ``def loss_fn``, then rebinds both names (``model = Model(...)``,
# ``loss_fn = nn.CrossEntropyLoss()``); chapter 13 builds an MLP from a list ending in an
# appended ``nn.Softmax`` and hands it to PyTorch-Ignite's ``create_supervised_trainer``
CHAPTER = """\
import torch
import torch.nn as nn

weight = torch.randn(1, requires_grad=True)
bias = torch.zeros(1, requires_grad=True)


def loss_fn(input, target):
    return (input - target).pow(2).mean()


def model(xb):
    return xb @ weight + bias


for epoch in range(10):
    for x_batch, y_batch in []:
        pred = model(x_batch)
        loss = loss_fn(pred, y_batch)
        loss.backward()


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(4, 3)

    def forward(self, x):
        return nn.Softmax(dim=1)(self.layer(x))


model = Model()
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters())
for epoch in range(10):
    for x_batch, y_batch in []:
        pred = model(x_batch)
        loss = loss_fn(pred, y_batch.long())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
"""


def test_a_chapter_rebinding_model_and_loss_names_is_reported_at_the_classifier(tmp_path: Path) -> None:
    write_project(tmp_path, {"chapter.py": CHAPTER})
    [finding] = lint_in_process(tmp_path / "chapter.py", "GL215")
    assert finding.line == 38 and "Model's output (line 29) is softmax probabilities" in finding.message


IGNITE = """\
import torch
import torch.nn as nn
from ignite.engine import create_supervised_trainer


def get_model(hidden_units=(32, 16)):
    input_size = 784
    all_layers = [nn.Flatten()]
    for hidden_unit in hidden_units:
        all_layers.append(nn.Linear(input_size, hidden_unit))
        all_layers.append(nn.ReLU())
        input_size = hidden_unit
    all_layers.append(nn.Linear(hidden_units[-1], 10)){ending}
    model = nn.Sequential(*all_layers)
    return model


model = get_model()
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
trainer = create_supervised_trainer(model, optimizer, loss_fn, device="cpu")
trainer.run([], max_epochs=5)
"""


def test_a_list_built_mlp_ending_in_an_appended_softmax_handed_to_ignite(tmp_path: Path) -> None:
    write_project(tmp_path, {"mlp.py": IGNITE.format(ending="\n    all_layers.append(nn.Softmax(dim=1))")})
    [finding] = lint_in_process(tmp_path / "mlp.py", "GL215")
    assert finding.line == 22
    assert ("model's output (line 14) is softmax probabilities, and this line hands it to `create_supervised_trainer` "
            "(PyTorch-Ignite), which feeds it to CrossEntropyLoss") in finding.message


def test_a_list_built_mlp_ending_in_its_linear_layer_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"mlp.py": IGNITE.format(ending="")})
    assert lint_in_process(tmp_path / "mlp.py", "GL215") == []


def test_a_softmax_appended_inside_a_loop_is_not_taken_for_the_last_layer(tmp_path: Path) -> None:
    looped = IGNITE.format(ending="").replace("        all_layers.append(nn.ReLU())", "        all_layers.append(nn.Softmax(dim=1))")
    write_project(tmp_path, {"mlp.py": looped})
    assert lint_in_process(tmp_path / "mlp.py", "GL215") == []


def test_a_loop_over_an_earlier_model_function_is_not_linked_to_the_later_classifier(tmp_path: Path) -> None:
    # the loss bound once at the top: only the model's name tells the two loops apart
    chapter = CHAPTER.replace("def loss_fn(input, target):\n    return (input - target).pow(2).mean()\n",
                              "loss_fn = nn.CrossEntropyLoss()\n").replace("model = Model()\nloss_fn = nn.CrossEntropyLoss()\n",
                                                                          "model = Model()\n")
    write_project(tmp_path, {"chapter.py": chapter})
    [finding] = lint_in_process(tmp_path / "chapter.py", "GL215")
    assert "Model's output" in finding.message and finding.line == 36
