"""GL406 shapes of held-out round 59's rows the first run missed (its other shapes are in
``test_gl406_round59_shapes``), in our own words:

- a detector whose ``__init__`` freezes the first blocks of a local EfficientNet's
  ``features`` through an alias (``blocks = net.features``), counting them with a counter
  the loop adds one to and a bound read as ``config.get("freeze_blocks", 3)``, and keeps
  the frozen stages in ``nn.Sequential(net.features, net.avgpool)``.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

DETECTOR = """\
    import torch
    import torch.nn as nn
    import torchvision.models as models

    SETTINGS = {{"freeze_blocks": 3, "lr": 1e-3}}


    class Detector(nn.Module):
        def __init__(self, config):
            super().__init__()
            net = models.{arch}(weights=None)
            blocks = net.features
            how_many = config.get("freeze_blocks", {bound})
            seen = 0
            for index, block in enumerate(blocks.children()):
                if seen < how_many:
                    for weight in block.parameters():
                        weight.requires_grad = False
                else:
                    for weight in block.parameters():
                        weight.requires_grad = True
                seen += 1
            self.trunk = nn.Sequential(net.features, net.avgpool)
            self.head = nn.Linear(1280, 1)

        def forward(self, x):
            return self.head(self.trunk(x).flatten(1))


    def fit(model, batches, loss_fn, optimizer, epochs):
        for epoch in range(epochs):
            model.train()
            {restore}
            for x, y in batches:
                optimizer.zero_grad()
                loss_fn(model(x), y).backward()
                optimizer.step()


    def main():
        model = Detector(SETTINGS)
        optimizer = torch.optim.AdamW(model.parameters(), lr=SETTINGS["lr"])
        fit(model, [], nn.BCEWithLogitsLoss(), optimizer, 10)


    if __name__ == "__main__":
        main()
"""


def _detector(tmp_path: Path, arch: str = "efficientnet_b0", bound: str = "3", restore: str = "") -> list:
    write_project(tmp_path, {"detector.py": DETECTOR.format(arch=arch, bound=bound, restore=restore)})
    return lint_in_process(tmp_path / "detector.py", "GL406")


def test_first_blocks_frozen_through_an_alias_and_kept_in_a_sequential(tmp_path: Path) -> None:
    findings = _detector(tmp_path)
    assert [(f.code, f.line) for f in findings] == [("GL406", 18)]  # (the freeze itself)
    assert "`model.trunk`" in findings[0].message
    assert "the first 3 child modules of `net.features`" in findings[0].message


def test_blocks_put_back_in_eval_are_quiet(tmp_path: Path) -> None:
    assert _detector(tmp_path, restore="model.trunk.eval()") == []


def test_a_bound_too_small_to_reach_batchnorm_is_not_read(tmp_path: Path) -> None:
    # (one block: fewer than the two children a prefix must hold to be read)
    assert _detector(tmp_path, bound="1") == []


def test_a_vgg_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    assert _detector(tmp_path, arch="vgg16") == []
