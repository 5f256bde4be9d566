"""GL406 on a LightningModule that freezes its BatchNorm backbone and defines
``training_step`` while no linted file calls ``trainer.fit`` (held-out round 20,
/work/heldout52: the fit was in a notebook). Lightning's Trainer puts the whole module in
train mode before every training epoch, so the finding is in the class's own file, at the
freeze. Where a script of the project fits it, the finding stays there, once."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODULE = """\
    import pytorch_lightning as pl
    import torch
    from torch import nn
    from torchvision import models


    class Transfer(pl.LightningModule):
        def __init__(self, classes=10):
            super().__init__()
            self.net = models.{arch}(weights=None)
            for param in self.net.parameters():
                param.requires_grad = False
            self.net.fc = nn.Linear(512, classes)
    {hook}
        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return nn.functional.cross_entropy(self(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.net.fc.parameters(), lr=1e-3)
"""

HOOK = """
        def on_train_epoch_start(self):
            self.net.eval()
"""

FIT = """\
    import pytorch_lightning as pl

    from model import Transfer

    model = Transfer()
    trainer = pl.Trainer(max_epochs=3)
    trainer.fit(model, [])
"""


def test_a_lightning_module_with_a_training_step_and_no_fit_is_reported_at_its_freeze(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODULE.format(arch="resnet18", hook="")})
    [finding] = lint_in_process(tmp_path / "model.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 12)
    assert finding.message.startswith("`self.net` has BatchNorm layers and its parameters are frozen here")
    assert "which Lightning's Trainer calls before every training epoch of `training_step`, line 18" in finding.message
    assert "call `self.net.eval()` in the LightningModule's `on_train_epoch_start`" in finding.message


def test_the_hook_putting_it_back_in_eval_and_a_backbone_without_batchnorm_are_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"hooked.py": MODULE.format(arch="resnet18", hook=HOOK),
                             "plain.py": MODULE.format(arch="vgg16", hook="")})
    assert lint_in_process(tmp_path / "hooked.py", "GL406") == []
    assert lint_in_process(tmp_path / "plain.py", "GL406") == []


def test_a_module_without_a_training_step_is_not_taken_for_trained(tmp_path: Path) -> None:
    text = MODULE.format(arch="resnet18", hook="").replace("def training_step", "def predict_step")
    write_project(tmp_path, {"model.py": text})
    assert lint_in_process(tmp_path / "model.py", "GL406") == []


def test_a_script_fitting_the_imported_module_leaves_the_finding_to_the_module(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODULE.format(arch="resnet18", hook=""), "train.py": FIT})
    assert [f.line for f in lint_in_process(tmp_path / "model.py", "GL406")] == [12]
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_module_fitted_in_its_own_file_is_reported_once_at_the_fit(tmp_path: Path) -> None:
    text = MODULE.format(arch="resnet18", hook="") + FIT.replace("from model import Transfer\n", "")
    write_project(tmp_path, {"model.py": text})
    [finding] = lint_in_process(tmp_path / "model.py", "GL406")
    assert finding.line == 12
    assert "which `trainer.fit(model)` on line 29 calls every training epoch" in finding.message


def test_an_eval_in_forward_or_in_the_training_step_is_quiet(tmp_path: Path) -> None:
    text = MODULE.format(arch="resnet18", hook="")
    in_forward = text.replace("        return self.net(x)", "        self.net.eval()\n        return self.net(x)")
    in_step = text.replace("        x, y = batch", "        self.net.eval()\n        x, y = batch")
    write_project(tmp_path, {"forward.py": in_forward, "step.py": in_step})
    assert lint_in_process(tmp_path / "forward.py", "GL406") == []
    assert lint_in_process(tmp_path / "step.py", "GL406") == []


INHERITED = """\
    import pytorch_lightning as pl
    import torch
    from torchvision.models import resnet18, resnet50


    class Base(pl.LightningModule):
        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.cross_entropy(self(x), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)


    class Small(Base):
        def __init__(self):
            super().__init__()
            self.model = resnet18()
            for param in self.model.parameters():
                param.requires_grad = False
            self.model.fc = torch.nn.Linear(512, 3)

        def forward(self, x):
            return self.model(x)


    class Large(Base):
        def __init__(self):
            super().__init__()
            self.model = resnet50()
            for param in self.model.parameters():
                param.requires_grad = False
            self.model.fc = torch.nn.Linear(2048, 3)

        def forward(self, x):
            return self.model(x)


    class Tuned(Base):
        def __init__(self):
            super().__init__()
            self.model = resnet50()

        def forward(self, x):
            return self.model(x)
"""


def test_a_training_step_inherited_from_a_base_class_of_the_file_counts_for_each_subclass(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": INHERITED})
    findings = lint_in_process(tmp_path / "models.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 20), ("GL406", 32)]
    assert all("before every training epoch of `training_step`, line 7" in f.message for f in findings)


def test_a_script_fitting_a_module_that_evals_its_part_each_step_is_quiet(tmp_path: Path) -> None:
    module = MODULE.format(arch="resnet18", hook="").replace("        x, y = batch",
                                                             "        self.net.eval()\n        x, y = batch")
    write_project(tmp_path, {"model.py": module, "train.py": FIT})
    assert lint_in_process(tmp_path / "model.py", "GL406") == []
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_script_fitting_a_module_whose_training_step_is_inherited_reports_nothing_twice(tmp_path: Path) -> None:
    script = "import pytorch_lightning as pl\n\nfrom models import Small\n\npl.Trainer().fit(Small(), [])\nmodel = Small()\n" \
             "trainer = pl.Trainer(max_epochs=3)\ntrainer.fit(model, [])\n"
    write_project(tmp_path, {"models.py": INHERITED, "train.py": script})
    assert [f.line for f in lint_in_process(tmp_path / "models.py", "GL406")] == [20, 32]
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
