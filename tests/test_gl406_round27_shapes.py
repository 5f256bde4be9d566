"""GL406 shapes from held-out round 27 (real code, ``bench/heldout/round27``):

- a frozen expert network built at module level, never put in eval mode, and run by a loss
  helper that the training loop calls (the lip-sync trainers: ``get_sync_loss`` runs the
  frozen SyncNet on every batch);
- the same expert built with ``.eval()`` on the construction (``objective =
  Objective(...).eval()``) is in eval mode: a look-alike.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

PROJECT = {
    "models/__init__.py": "from .expert import Expert as ExpertNet\n",
    "models/blocks.py": """\
        import torch.nn as nn


        class ConvBlock(nn.Module):
            def __init__(self, cin, cout):
                super().__init__()
                self.block = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout))

            def forward(self, x):
                return self.block(x).relu()
        """,
    "models/expert.py": """\
        import torch.nn as nn
        from .blocks import ConvBlock


        class Expert(nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = nn.Sequential(ConvBlock(3, 8), ConvBlock(8, 8))

            def forward(self, x):
                return self.enc(x).mean()
        """,
}

TRAIN = """\
import torch
import torch.nn as nn
from models import ExpertNet as Expert

expert = Expert(){chained}
for p in expert.parameters():
    p.requires_grad = False


def expert_loss(g):
    return expert(g)


def train(model, loader, optimizer):
    for x in loader:
        model.train()
        optimizer.zero_grad()
        loss = expert_loss(model(x))
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    net = nn.Conv2d(3, 3, 1)
    train(net, [], torch.optim.Adam(net.parameters()))
"""


def test_a_frozen_expert_run_by_a_loss_helper_of_the_training_loop_is_in_train_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {**PROJECT, "train.py": TRAIN.format(chained="")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert ("nothing puts it in eval mode: a module is built in train mode, so running it on line 11 in "
            "`expert_loss`, which the training loop calls on line 18,") in finding.message


def test_an_expert_built_with_eval_chained_on_its_construction_is_in_eval_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {**PROJECT, "train.py": TRAIN.format(chained=".eval().to('cpu')")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_helper_nobody_calls_in_the_training_loop_runs_nothing_there(tmp_path: Path) -> None:
    # the helper is only called once the training is over (a report): no run in train mode
    script = TRAIN.format(chained="").replace("        loss = expert_loss(model(x))\n", "        loss = model(x).mean()\n")
    script = script.replace('    train(net, [], torch.optim.Adam(net.parameters()))\n',
                            '    train(net, [], torch.optim.Adam(net.parameters()))\n    print(expert_loss(torch.zeros(1, 3, 8, 8)))\n')
    write_project(tmp_path, {**PROJECT, "train.py": script})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


LIGHTNING = """\
import torch
import pytorch_lightning as pl
from torchvision.models import resnet18


class Expert(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = resnet18()

    def forward(self, x):
        return self.net(x)


class Student(pl.LightningModule):
    def __init__(self, path):
        super().__init__()
        self.teacher = {built}
        self.teacher.freeze()
        self.head = torch.nn.Linear(1000, 10)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.cross_entropy(self.head(self.teacher(x)), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.head.parameters())
"""


def test_lightning_freeze_of_a_loaded_teacher_is_undone_by_the_trainers_train(tmp_path: Path) -> None:
    # LightningModule.freeze() is requires_grad_(False) and eval(); the Trainer's train() of the
    # student puts the teacher back in train mode (a progressive lip-sync trainer, round 27)
    write_project(tmp_path, {"student.py": LIGHTNING.format(built="Expert.load_from_checkpoint(path)")})
    [finding] = lint_in_process(tmp_path / "student.py", "GL406")
    assert finding.line == 19
    assert "`self.teacher` has BatchNorm layers and it is frozen here, but `self.train()`" in finding.message


def test_a_freeze_method_of_the_users_own_is_not_lightnings(tmp_path: Path) -> None:
    # a class of the file with its own freeze(): what it does is not known here, so the line
    # is no freeze; the teacher is still out of configure_optimizers (round 47), which is one
    script = LIGHTNING.format(built="Expert()").replace(
        "    def forward(self, x):\n        return self.net(x)\n\n\nclass Student",
        "    def forward(self, x):\n        return self.net(x)\n\n    def freeze(self):\n        pass\n\n\nclass Student")
    write_project(tmp_path, {"student.py": script})
    [finding] = lint_in_process(tmp_path / "student.py", "GL406")
    assert finding.line == 30
    assert "`self.teacher` has BatchNorm layers and only `self.head` is optimised here" in finding.message


def test_a_class_behind_a_circular_package_import_is_read_as_python_reads_it(tmp_path: Path) -> None:
    # models/__init__.py imports .blocks first, then .expert, which imports ConvNet back from
    # ``models``: Python sees the names bound so far, and so does gradlint (round 27, Dongnamu)
    write_project(tmp_path, {
        "models/__init__.py": "from .blocks import ConvNet\nfrom .expert import Expert\n",
        "models/blocks.py": """\
            import torch.nn as nn


            class ConvNet(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))

                def forward(self, x):
                    return self.body(x)
            """,
        "models/expert.py": """\
            import pytorch_lightning as pl
            from models import ConvNet


            class Expert(pl.LightningModule):
                def __init__(self):
                    super().__init__()
                    self.net = ConvNet()

                def forward(self, x):
                    return self.net(x)
            """,
        "student.py": LIGHTNING.replace("from torchvision.models import resnet18\n", "from models import Expert\n").replace(
            "class Expert(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n"
            "        self.net = resnet18()\n\n    def forward(self, x):\n        return self.net(x)\n\n\n", "").format(
            built="Expert.load_from_checkpoint(path)"),
    })
    [finding] = lint_in_process(tmp_path / "student.py", "GL406")
    assert finding.line == 10 and "`self.teacher` has BatchNorm layers and it is frozen here" in finding.message
