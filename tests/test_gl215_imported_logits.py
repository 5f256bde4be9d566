"""GL215 on raw logits into ``nn.BCELoss`` when the model class lives in another module of
the project (synthetic held-out set /work/heldout57, dcgan_celeba, in our own words): a
DCGAN discriminator whose last layer was changed to ``nn.Linear`` without a sigmoid."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODELS = """\
    from torch import nn


    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Sequential(nn.Conv2d(3, 64, 4, 2, 1), nn.LeakyReLU(0.2))
            self.fc = nn.Linear(64 * 16 * 16, 1)

        def forward(self, x):
            return {ending}
"""

TRAIN = """\
    import torch
    from torch import nn

    from models import Discriminator

    netD = Discriminator()
    criterion = nn.BCELoss()
    optimizer = torch.optim.Adam(netD.parameters())
    for real in []:
        optimizer.zero_grad()
        out = netD(real)
        loss = criterion(out, torch.ones(out.shape))
        loss.backward()
        optimizer.step()
"""


def test_an_imported_class_ending_in_a_linear_layer_into_bceloss(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS.format(ending="self.fc(self.conv(x).flatten(1)).view(-1)"),
                             "train.py": TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 12)
    assert finding.message.startswith("Discriminator's output (models.py:11) is raw logits (its last layer is "
                                      "nn.Linear), and this line feeds it to BCELoss")


def test_the_same_class_ending_in_a_sigmoid_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS.format(ending="torch.sigmoid(self.fc(self.conv(x).flatten(1)))")
                             .replace("from torch import nn", "import torch\n    from torch import nn"),
                             "train.py": TRAIN})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []

