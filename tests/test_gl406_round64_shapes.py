"""GL406 shapes of held-out round 64 (``bench/heldout/round64``), in our own words: an
art-style classifier whose freeze flag is a comparison with a command-line option's default
(``freeze = args.strategy == "frozen"``, 64/a)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

NETWORK = """\
    import torch.nn as nn
    from torchvision import models


    def build_densenet121(num_classes, freeze_backbone=False):
        model = models.densenet121(weights="DEFAULT")
        if freeze_backbone:
            for weight in model.parameters():
                weight.requires_grad = False
        model.classifier = nn.Linear(model.classifier.in_features, num_classes)
        return model
"""

TRANSFER = """\
    import argparse
    import torch
    from network import build_densenet121


    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("--strategy", choices=["frozen", "full"], default="{default}")
        args = parser.parse_args()
        freeze = {test}
        model = build_densenet121(27, freeze_backbone=freeze)
        optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
        for epoch in range(20):
            model.train()
            for x, y in []:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
"""


@pytest.mark.parametrize(("default", "test", "found"), [
    ("frozen", '(args.strategy == "frozen")', True),
    ("full", '(args.strategy == "frozen")', False),
    ("full", 'args.strategy != "frozen"', True),
])
def test_a_freeze_flag_comparing_an_option_with_its_default(tmp_path: Path, default: str, test: str,
                                                             found: bool) -> None:
    write_project(tmp_path, {"network.py": NETWORK, "transfer.py": TRANSFER.format(default=default, test=test)})
    findings = lint_in_process(tmp_path / "transfer.py", "GL406")
    assert [(f.code, f.line) for f in findings] == ([("GL406", 11)] if found else [])
