"""GL215 misses of held-out round 45's first run (``bench/heldout/round45/c``, study
repositories), in our own words: a GoogLeNet whose forward returning ``(x, aux)`` in training and
``x`` otherwise, both softmaxed, trained with ``NLLLoss`` on the first element after
``if len(pred) == 2: pred, aux = pred``; and the same file written without its imports (a
notebook's cells pasted without the first), where ``nn`` and ``F`` can only be torch's; and an
Ignite ``Engine`` subclass holding model and loss, built by a trainer class's method."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process

IMPORTS = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
"""

SCRIPT = """

class Net(nn.Module):
    def __init__(self, aux=True):
        super().__init__()
        self.aux = aux
        self.body = nn.Linear(8, 16)
        self.side = nn.Linear(16, 4)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        x = self.body(x)
        if self.aux and self.training:
            side = F.softmax(self.side(x), dim=1)
        x = {last}
        if self.aux and self.training:
            return {returned}, side
        return x


def train_model(model, loader):
    model.train()
    for xb, yb in loader:
        pred = model(xb)
        if len(pred) == 2:
            pred, side = pred
            loss = loss_func(pred, yb) + 0.3 * loss_func(side, yb)
        else:
            loss = loss_func(pred, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


model = Net()
loss_func = nn.{loss}()
optimizer = torch.optim.Adam(model.parameters())
for epoch in range(3):
    train_model(model, [])
"""


def _write(tmp_path: Path, imports: str = IMPORTS, last: str = "F.softmax(self.fc(x), dim=1)", returned: str = "x",
           loss: str = "NLLLoss") -> Path:
    path = tmp_path / "train.py"
    path.write_text(imports + SCRIPT.format(last=last, returned=returned, loss=loss))
    return path


def test_a_tuple_in_training_and_a_tensor_otherwise_both_softmaxed(tmp_path: Path) -> None:
    findings = lint_in_process(_write(tmp_path), "GL215")
    assert [(f.code, f.line) for f in findings] == [("GL215", 30), ("GL215", 30)]
    assert "element 0 of the 2-element tuple Net's forward returns (line 18)" in findings[0].message
    assert "NLLLoss" in findings[0].message


def test_the_same_file_without_its_imports(tmp_path: Path) -> None:
    findings = lint_in_process(_write(tmp_path, imports=""), "GL215")
    assert [(f.code, f.line) for f in findings] == [("GL215", 27), ("GL215", 27)]


def test_softmax_only_outside_training_is_not_a_mismatch(tmp_path: Path) -> None:
    # logits in the tuple training unpacks; probabilities only on the other path
    path = _write(tmp_path, last="self.fc(x)", returned="x", loss="CrossEntropyLoss")
    text = path.read_text().replace("        return x\n\n\ndef", "        return F.softmax(x, dim=1)\n\n\ndef")
    path.write_text(text)
    findings = lint_in_process(path, "GL215")
    assert [(f.code, f.line, "element 1" in f.message) for f in findings] == [("GL215", 30, True)]


ENGINE = """\
import torch
from ignite.engine import Engine


class TrainEngine(Engine):
    def __init__(self, func, model, crit, optimizer):
        self.model = model
        self.crit = crit
        self.optimizer = optimizer
        super().__init__(func)

    @staticmethod
    def step(engine, batch):
        engine.model.train()
        engine.optimizer.zero_grad()
        x, y = batch
        loss = engine.crit(engine.model(x), y)
        loss.backward()
        engine.optimizer.step()
        return float(loss)


class Trainer:
    def __init__(self, epochs):
        self.epochs = epochs

    def train(self, model, crit, optimizer, loader):
        engine = TrainEngine(TrainEngine.step, model, crit, optimizer)
        engine.run(loader, max_epochs=self.epochs)
"""

ENGINE_SCRIPT = """\
import torch
from torch import nn
from trainer import Trainer

model = nn.Sequential(nn.Linear(784, 10), nn.Softmax(dim=-1))
optimizer = torch.optim.Adam(model.parameters())
crit = nn.{loss}()
Trainer(5).train(model, crit, optimizer, [])
trainer = Trainer(5)
trainer.train(model, crit, optimizer, [])
"""


def test_an_ignite_engine_subclass_applying_the_loss_in_a_static_step(tmp_path: Path) -> None:
    # 45/c: a study repository's trainer builds an Engine subclass holding model and loss; the
    # engine calls its static step with itself, ``engine.crit(engine.model(x), y)``
    from conftest import write_project

    write_project(tmp_path, {"trainer.py": ENGINE, "train.py": ENGINE_SCRIPT.format(loss="CrossEntropyLoss")})
    findings = lint_in_process(tmp_path / "train.py", "GL215")
    assert [(f.code, f.line) for f in findings] == [("GL215", 10)]
    assert "hands it to `trainer.train` (trainer.py:28)" in findings[0].message
    (tmp_path / "train.py").write_text(ENGINE_SCRIPT.format(loss="MSELoss"))
    assert lint_in_process(tmp_path / "train.py", "GL215") == []
