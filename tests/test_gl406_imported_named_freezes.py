"""GL406: children frozen by name through a helper of another module,
``freeze_layers(net, ["conv1", "bn1", "layer1"])`` with ``from common import freeze_layers``.

Shaped by the synthetic held-out round 21s (stem-freeze-finetune), whose helper lives in
``common.py``; the same helper in the script itself was already read."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

COMMON = """\
from torch import nn


def freeze_layers(network, children):
    # stop training the named children
    for child in children:
        for weight in getattr(network, child).parameters():
            weight.requires_grad = False


def freeze_bn(network):
    for layer in network.modules():
        if isinstance(layer, nn.BatchNorm2d):
            layer.eval()
"""

SCRIPT = """\
import torch
from torch import nn
from torchvision import models

from common import freeze_bn, freeze_layers

FROZEN = ["conv1", "bn1", "layer1", "layer2"]
net = models.resnet101(weights=None)
net.fc = nn.Linear(2048, 120)
{freeze}
optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=0.01)
for epoch in range(30):
    net.train(){after}
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
"""


def _script(freeze: str, after: str = "") -> str:
    return SCRIPT.format(freeze=freeze, after=after)


def test_an_imported_helper_given_a_literal_list_freezes_those_children(tmp_path: Path) -> None:
    write_project(tmp_path, {"common.py": COMMON,
                             "train.py": _script('freeze_layers(net, ["conv1", "bn1", "layer1", "layer2"])')})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 10)
    assert ("`freeze_layers` (common.py:6) freezes `net.conv1`, `net.bn1`, `net.layer1` and `net.layer2` here, "
            "but `net.train()` on line 13") in finding.message


def test_a_list_bound_to_a_name_is_read_too(tmp_path: Path) -> None:
    write_project(tmp_path, {"common.py": COMMON, "train.py": _script("freeze_layers(net, FROZEN)")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 10
    assert "freezes `net.conv1`, `net.bn1`, `net.layer1` and `net.layer2` here" in finding.message


def test_a_list_of_heads_or_a_bn_eval_after_train_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"common.py": COMMON,
                             "heads.py": _script('freeze_layers(net, ["conv1", "fc"])'),
                             "kept.py": _script("freeze_layers(net, FROZEN)", after="\n    freeze_bn(net)")})
    assert lint_in_process(tmp_path / "heads.py", "GL406") == []
    assert lint_in_process(tmp_path / "kept.py", "GL406") == []
