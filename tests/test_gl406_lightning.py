"""GL406 in a LightningModule that distils a teacher: the teacher runs under no_grad in
``training_step`` and ``configure_optimizers`` returns an optimiser of the student only,
so Lightning's ``train()`` before each epoch leaves the teacher's BatchNorm drifting;
``on_train_epoch_start`` putting it back in eval mode is the fix. Held-out round 8
(/work/heldout28, a distillation project) showed the shape; the module here is our own."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process

DISTILLER = """\
import torch
import pytorch_lightning as pl
from torch import nn
from torchvision import models


class Distiller(pl.LightningModule):
    def __init__(self, teacher):
        super().__init__()
        self.teacher = teacher
        self.student = models.resnet18(num_classes=10)

    def training_step(self, batch, batch_idx):
        x, y = batch
        with torch.no_grad():
            soft = self.teacher(x).softmax(-1)
        out = self.student(x)
        return nn.functional.kl_div(out.log_softmax(-1), soft, reduction="batchmean")
{hook}
    def configure_optimizers(self):
        return torch.optim.Adam({optimised}.parameters(), lr=1e-3)


lit = Distiller(models.resnet50(num_classes=10))
pl.Trainer(max_epochs=3).fit(lit)
"""

HOOK = """
    def on_train_epoch_start(self):
        self.teacher.eval()
"""


def _lint(tmp_path: Path, text: str) -> list:
    path = tmp_path / "distil.py"
    path.write_text(text)
    return lint_in_process(path, "GL406")


def test_a_teacher_left_out_of_configure_optimizers_drifts_in_train_mode(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, DISTILLER.format(hook="", optimised="self.student"))
    assert (finding.code, finding.line) == ("GL406", 16)
    assert "`lit.teacher` has BatchNorm layers and it runs under torch.no_grad() here" in finding.message
    assert "(which `Trainer(...).fit(lit)` on line 25 calls every training epoch)" in finding.message
    assert "on_train_epoch_start" in finding.message


def test_the_hook_that_puts_the_teacher_back_in_eval_mode_is_the_fix(tmp_path: Path) -> None:
    assert _lint(tmp_path, DISTILLER.format(hook=HOOK, optimised="self.student")) == []


def test_a_teacher_in_the_optimiser_but_only_run_under_no_grad_is_frozen_all_the_same(tmp_path: Path) -> None:
    """No gradient ever reaches it, so the optimiser leaves it as it is (round 22, metastacy)."""
    [finding] = _lint(tmp_path, DISTILLER.format(hook="", optimised="self"))
    assert (finding.code, finding.line) == ("GL406", 16)
    assert ("`lit.teacher` has BatchNorm layers and it only ever runs under torch.no_grad(), here, so its parameters "
            "get no gradient") in finding.message


MUTUAL = """
    def on_after_backward(self):
        pass

    def mutual_step(self, x):
        return self.teacher(x).mean()
"""


def test_a_teacher_the_optimiser_trains_is_not_frozen(tmp_path: Path) -> None:
    """Run with gradients somewhere in its class (mutual learning): the optimiser trains it."""
    assert _lint(tmp_path, DISTILLER.format(hook=MUTUAL, optimised="self")) == []
