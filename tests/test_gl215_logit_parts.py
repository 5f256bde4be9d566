"""GL215 on raw logits into ``nn.BCELoss`` where the logits come from a convolution or from
a part of the model (synthetic held-out round 70s, ``b``, a road-segmentation project, in
our own words): a U-Net whose last layer is a 1x1 ``nn.Conv2d``, held by a LightningModule
as ``self.net`` and trained with ``self.criterion(self(img), mask)`` in ``training_step``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

UNET = """\
    import torch
    from torch import nn


    class TinyUNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
            self.up = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
            self.head = nn.Conv2d(16, 1, kernel_size=1)

        def forward(self, x):
            x = self.up(self.down(x))
            return {ending}
"""

LIT = """\
    import pytorch_lightning as pl
    import torch
    from torch import nn

    from nets.unet import TinyUNet


    class MaskModule(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = TinyUNet()
            self.criterion = {loss}

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, batch_idx):
            img, mask = batch
            out = self(img)
            loss = self.criterion(out, mask)
            return loss

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-3)
"""


def _project(tmp_path: Path, ending: str = "self.head(x)", loss: str = "nn.BCELoss()") -> Path:
    write_project(tmp_path, {"nets/__init__.py": "", "nets/unet.py": UNET.format(ending=ending),
                             "lit.py": LIT.format(loss=loss)})
    return tmp_path / "lit.py"


def test_a_part_ending_in_a_convolution_into_bceloss_through_self(tmp_path: Path) -> None:
    [finding] = lint_in_process(_project(tmp_path), "GL215")
    assert (finding.code, finding.line) == ("GL215", 20)
    assert finding.message.startswith("MaskModule's output (nets/unet.py:14) is raw logits (its last layer is "
                                      "nn.Conv2d), and this line feeds it to BCELoss")


def test_the_same_part_with_bce_with_logits_is_quiet(tmp_path: Path) -> None:
    assert lint_in_process(_project(tmp_path, loss="nn.BCEWithLogitsLoss()"), "GL215") == []


def test_the_same_part_ending_in_a_sigmoid_is_quiet(tmp_path: Path) -> None:
    assert lint_in_process(_project(tmp_path, ending="torch.sigmoid(self.head(x))"), "GL215") == []


def test_a_sigmoid_applied_before_the_loss_is_quiet(tmp_path: Path) -> None:
    path = _project(tmp_path)
    path.write_text(path.read_text().replace("out = self(img)", "out = torch.sigmoid(self(img))"))
    assert lint_in_process(path, "GL215") == []


def test_self_in_a_class_ending_in_its_own_linear_layer(tmp_path: Path) -> None:
    write_project(tmp_path, {"lit.py": """\
        import pytorch_lightning as pl
        from torch import nn


        class Scorer(pl.LightningModule):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
                self.out = nn.Linear(16, 1)
                self.loss_fn = nn.BCELoss()

            def forward(self, x):
                return self.out(self.body(x)).squeeze(1)

            def training_step(self, batch, batch_idx):
                x, y = batch
                return self.loss_fn(self(x), y)
    """})
    [finding] = lint_in_process(tmp_path / "lit.py", "GL215")
    assert (finding.line, finding.message.split(" is raw")[0]) == (17, "Scorer's output (line 13)")


def test_a_part_with_another_class_on_one_branch_is_quiet(tmp_path: Path) -> None:
    path = _project(tmp_path)
    path.write_text(path.read_text().replace(
        "self.net = TinyUNet()", "self.net = TinyUNet() if pl else nn.Sequential(TinyUNet(), nn.Sigmoid())"))
    assert lint_in_process(path, "GL215") == []
