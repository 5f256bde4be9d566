"""GL109 on a module-level attention helper whose dropout rate is a parameter with a default
of 0 (the real-code benchmark's DINO discriminator, in our own words): every module call
leaves it at 0, so no unit is ever dropped; one call passing a rate makes it a finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

ATTENTION = """\
    import torch.nn.functional as F
    from torch import nn


    def slow_attn(query, key, value, scale, dropout_p=0.0):
        attn = query.mul(scale) @ key.transpose(-2, -1)
        return (F.dropout(attn.softmax(dim=-1), p=dropout_p) if dropout_p > 0 else attn.softmax(dim=-1)) @ value


    class SelfAttention(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.qkv = nn.Linear(dim, 3 * dim)
            self.scale = dim ** -0.5

        def forward(self, x):
            q, k, v = self.qkv(x).chunk(3, dim=-1)
            return slow_attn(q, k, v, self.scale{passed})
"""


@pytest.mark.parametrize(("passed", "expected"), [("", []), (", dropout_p=0.0", []), (", 0.1", [("GL109", 7)])])
def test_a_helper_rate_left_at_a_default_of_zero(tmp_path: Path, passed: str, expected: list) -> None:
    write_project(tmp_path, {"disc.py": ATTENTION.format(passed=passed)})
    assert [(f.code, f.line) for f in lint_in_process(tmp_path / "disc.py", "GL109")] == expected
