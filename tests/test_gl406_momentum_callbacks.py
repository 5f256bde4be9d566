"""GL406 and momentum copies moved by a callback of another module (the real-code
benchmark's Lightning Bolts BYOL, in our own words): the LightningModule keeps
``self.target_network = deepcopy(self.online_network)``, runs it under ``no_grad``, and hands
itself to a project callback whose method blends ``pl_module.target_network``'s parameters
toward the online network's. A moving-average target is meant to run in train mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

CALLBACK = """\
    class MovingAverageUpdate:
        def __init__(self, tau=0.996):
            self.tau = tau

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            online_net = pl_module.online_network
            target_net = pl_module.{moved}
            self.update_weights(online_net, target_net)

        def update_weights(self, online_net, target_net):
            for online_p, target_p in zip(online_net.parameters(), target_net.parameters()):
                target_p.data = self.tau * target_p.data + (1.0 - self.tau) * online_p.data
"""

MODULE = """\
    from copy import deepcopy

    import pytorch_lightning as pl
    import torch
    import torchvision
    from torch.nn import functional as F

    from callbacks import MovingAverageUpdate


    class Bootstrap(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.online_network = torchvision.models.resnet18()
            self.target_network = deepcopy(self.online_network)
            self.weight_callback = MovingAverageUpdate()

        def on_train_batch_end(self, outputs, batch, batch_idx):
            self.weight_callback.on_train_batch_end(self.trainer, self, outputs, batch, batch_idx)

        def training_step(self, batch, batch_idx):
            (a, b), _ = batch
            with torch.no_grad():
                z = self.target_network(b)
            return -F.cosine_similarity(self.online_network(a), z).mean()

        def configure_optimizers(self):
            return torch.optim.Adam(self.online_network.parameters(), lr=1e-3)


    model = Bootstrap()
    pl.Trainer(max_epochs=10).fit(model)
"""


@pytest.mark.parametrize(("moved", "expected"), [
    ("target_network", []),
    ("ema_network", [("GL406", 24)]),  # the callback moves another attribute: this target stays frozen
])
def test_a_target_network_moved_by_an_imported_callback(tmp_path: Path, moved: str, expected: list) -> None:
    write_project(tmp_path, {"callbacks.py": CALLBACK.format(moved=moved), "byol.py": MODULE})
    assert [(f.code, f.line) for f in lint_in_process(tmp_path / "byol.py", "GL406")] == expected
