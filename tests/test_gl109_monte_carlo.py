"""GL109 stays silent on Monte-Carlo dropout (round 66/c's look-alike: a family of
``*_mcdo_block.py`` files whose blocks sample dropout at test time on purpose), and still
reports the same block in a file not named for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

BLOCK = """\
    import torch.nn as nn
    import torch.nn.functional as F


    class {name}(nn.Module):
        def __init__(self, channels, rate=0.3):
            super().__init__()
            self.conv = nn.Conv2d(channels, channels, 3, padding=1)
            self.rate = rate

        def forward(self, x):
            return F.dropout(self.conv(x).relu(), p=self.rate)
"""


@pytest.mark.parametrize(("file", "name", "expected"), [
    ("resnet_mcdo_block.py", "BasicBlock", []),
    ("blocks.py", "MCDropoutBlock", []),
    ("blocks.py", "MonteCarloBlock", []),
    ("blocks.py", "BasicBlock", [("GL109", 12)]),
    ("mcdonald_block.py", "BasicBlock", [("GL109", 12)]),  # a name that only starts like one
])
def test_monte_carlo_dropout_blocks_are_deliberate(tmp_path: Path, file: str, name: str, expected: list) -> None:
    write_project(tmp_path, {file: BLOCK.format(name=name)})
    findings = lint_in_process(tmp_path / file, "GL109")
    assert [(f.code, f.line) for f in findings] == expected
