"""GL406 shapes of synthetic round 65s (``bench/heldout/round65s``, small projects fresh
evaluators wrote in the style of public code), in our own words: ADDA's source encoder frozen
by a ``freeze(module)`` helper of a utilities module and handed to the adaptation function,
never put in eval mode (65s/b)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

UTILS = """\
    import torch


    def freeze(module):
        for p in module.parameters():
            p.{freeze}


    def save_model(net, path):
        torch.save(net.state_dict(), path)
"""

ADAPT = """\
    import torch
    from torchvision import models
    from utils import freeze, save_model


    def train_target(source, target, critic, loader):
        target.train()
        opt = torch.optim.Adam(list(target.parameters()) + list(critic.parameters()))
        for epoch in range(50):
            for xs, xt in loader:
                loss = critic(source(xs)).mean() - critic(target(xt)).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        return target


    def main(loader):
        source = models.resnet50(weights=None)
        target = models.resnet50(weights=None)
        freeze(source)
        critic = torch.nn.LazyLinear(1)
        target = train_target(source, target, critic, loader)
        save_model(target, "target.pt")
"""


@pytest.mark.parametrize(("freeze", "expected"), [("requires_grad = False", [("GL406", 21)]),
                                                   ("requires_grad = True", [])])
def test_a_source_encoder_frozen_by_a_helper_module_and_never_put_in_eval(tmp_path: Path, freeze: str,
                                                                          expected: list) -> None:
    write_project(tmp_path, {"utils.py": UTILS.format(freeze=freeze), "adapt.py": ADAPT})
    findings = lint_in_process(tmp_path / "adapt.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("nothing puts it in eval mode" in f.message for f in findings)
