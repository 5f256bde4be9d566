"""GL406 on fine-tuning idioms written for this file (not from a held-out set): an optimiser
given only param groups of the model's head, a freeze by ``requires_grad_(False)`` in a loop
over a literal list of the model's stages, and a backbone put in eval once before it is
wrapped in a Sequential whose ``train()`` runs every epoch; each beside the form that must
stay silent."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

HEAD = """\
import torch
from torch import nn
from torchvision import models

"""
LOOP = """
criterion = nn.CrossEntropyLoss()
for epoch in range(20):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
"""


def _findings(tmp_path: Path, body: str) -> list[tuple[str, int, str]]:
    write_project(tmp_path, {"train.py": HEAD + body + LOOP})
    return [(f.code, f.line, f.message) for f in lint_in_process(tmp_path / "train.py", "GL406")]


def _head_groups_and(stage: str) -> str:
    return ("model = models.resnet50(weights='DEFAULT')\nmodel.fc = nn.Linear(2048, 4)\n"
            "optimizer = torch.optim.Adam([\n    {'params': model.fc.parameters(), 'lr': 1e-3},\n"
            f"    {{'params': model.{stage}.parameters(), 'lr': 1e-4}},\n])\n")


def test_param_groups_of_the_head_alone_leave_the_backbone_frozen(tmp_path: Path) -> None:
    found = _findings(tmp_path, _head_groups_and("layer4"))
    assert [(code, line) for code, line, _ in found] == [("GL406", 7)]
    assert "only `model.fc` and `model.layer4` are optimised here" in found[0][2]


def test_param_groups_that_also_take_the_rest_freeze_nothing(tmp_path: Path) -> None:
    assert _findings(tmp_path, _head_groups_and("layer1")) == []  # (the stem's stage is a group: not a head-only optimiser)


def test_requires_grad_false_in_a_loop_over_listed_stages(tmp_path: Path) -> None:
    body = ("model = models.resnet50(weights='DEFAULT')\nmodel.fc = nn.Linear(2048, 4)\n"
            "for module in [model.conv1, model.bn1, model.layer1]:\n    module.requires_grad_(False)\n"
            "optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))\n")
    found = _findings(tmp_path, body)
    assert [(code, line) for code, line, _ in found] == [("GL406", 8)]
    assert "`model.bn1` and `model.layer1` are frozen here" in found[0][2]


def test_listed_stages_put_back_in_eval_each_epoch_are_silent(tmp_path: Path) -> None:
    body = ("model = models.resnet50(weights='DEFAULT')\nmodel.fc = nn.Linear(2048, 4)\n"
            "for module in [model.conv1, model.bn1, model.layer1]:\n    module.requires_grad_(False)\n"
            "optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))\n")
    loop = LOOP.replace("    model.train()\n", "    model.train()\n    for module in [model.bn1, model.layer1]:\n"
                        "        module.eval()\n")
    write_project(tmp_path, {"train.py": HEAD + body + loop})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


WRAPPED = ("backbone = models.resnet50(weights='DEFAULT')\nbackbone.fc = nn.Identity()\nbackbone.eval()\n"
           "for p in backbone.parameters():\n    p.requires_grad = False\nhead = nn.Linear(2048, 4)\n"
           "model = nn.Sequential(backbone, head)\noptimizer = torch.optim.Adam(head.parameters())\n")


def test_an_eval_before_the_backbone_is_wrapped_is_undone_by_the_wrappers_train(tmp_path: Path) -> None:
    found = _findings(tmp_path, WRAPPED)
    assert [(code, line) for code, line, _ in found] == [("GL406", 9)]
    assert "frozen here as `backbone`, which `model` holds (line 11)" in found[0][2]


def test_an_eval_of_the_backbone_after_the_wrappers_train_is_silent(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": HEAD + WRAPPED + LOOP.replace("    model.train()\n",
                                                                         "    model.train()\n    backbone.eval()\n")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


EFFICIENTNET_FIRST_BLOCKS = ("model = models.efficientnet_b0(weights='DEFAULT')\n"
                             "for p in model.features[:5].parameters():\n    p.requires_grad = False\n"
                             "model.classifier[1] = nn.Linear(1280, 8)\n"
                             "optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))\n")


def test_a_freeze_of_the_first_elements_of_a_sequential_part(tmp_path: Path) -> None:
    found = _findings(tmp_path, EFFICIENTNET_FIRST_BLOCKS)
    assert [(code, line) for code, line, _ in found] == [("GL406", 7)]
    assert "`model.features` has BatchNorm layers and its first 5 elements are frozen here" in found[0][2]


def test_all_but_the_last_elements_of_a_sequential_of_resnet_children(tmp_path: Path) -> None:
    body = ("base = models.resnet18(weights='DEFAULT')\n"
            "model = nn.Sequential(*list(base.children())[:-1], nn.Flatten(), nn.Linear(512, 10))\n"
            "for p in model[:-2].parameters():\n    p.requires_grad = False\n"
            "optimizer = torch.optim.Adam(model[-1].parameters())\n")
    found = _findings(tmp_path, body)
    assert [(code, line) for code, line, _ in found] == [("GL406", 8)]
    assert "all but its last 2 elements are frozen here" in found[0][2]


def test_the_frozen_slice_put_back_in_eval_each_epoch_is_silent(tmp_path: Path) -> None:
    for put_back in ("    model.features[:5].eval()\n", "    for block in model.features[:5]:\n        block.eval()\n"):
        write_project(tmp_path, {"train.py": HEAD + EFFICIENTNET_FIRST_BLOCKS
                                 + LOOP.replace("    model.train()\n", "    model.train()\n" + put_back)})
        assert lint_in_process(tmp_path / "train.py", "GL406") == [], put_back


def test_a_one_element_slice_may_be_a_plain_stem_convolution(tmp_path: Path) -> None:
    body = EFFICIENTNET_FIRST_BLOCKS.replace("models.efficientnet_b0", "models.vgg16_bn").replace("[:5]", "[:1]")
    assert _findings(tmp_path, body) == []


def test_later_blocks_reopened_through_a_sliced_list_are_named_in_the_message(tmp_path: Path) -> None:
    body = ("model = models.efficientnet_b2(weights='DEFAULT')\nfor param in model.parameters():\n"
            "    param.requires_grad = False\nmodel.classifier = nn.Linear(1408, 5)\n"
            "for block in list(model.features)[6:]:\n    for param in block.parameters():\n"
            "        param.requires_grad = True\n"
            "optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))\n")
    found = _findings(tmp_path, body)
    assert [(code, line) for code, line, _ in found] == [("GL406", 7)]
    assert "(`model.features[6:]` trainable again; the rest stays frozen)" in found[0][2]
