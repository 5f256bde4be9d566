"""GL215 shapes from held-out round 36 (real code, ``bench/heldout/round36``): a detector
head ending in ``nn.Sigmoid`` whose ``forward`` hands its output by keyword to a loss
function of another module (``from pipeline import loss``; ``loss.multiloss(output_cls=out_cls,
...)``), which binds ``F.binary_cross_entropy_with_logits(input=output_cls.squeeze(), ...)``
among other losses and returns their sum (round 36/b, lukasz-staniszewski)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

LOSSES = """\
import torch.nn.functional as F


def multiloss(output_cls, output_box, target, weight=1.0):
    cls_loss = F.binary_cross_entropy_with_logits(
        input=output_cls.squeeze(),
        target=target["label"].float(),
    )
    box_loss = F.l1_loss(output_box, target["box"])
    return {"loss": cls_loss + weight * box_loss}
"""

NET = """\
import torch.nn as nn

from pipeline import loss


class FocusNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(8, 16)
        self.cls_fc = nn.Sequential(nn.Linear(16, 1){ending})
        self.box_fc = nn.Linear(16, 4)

    def forward(self, x, target):
        x = self.body(x)
        out_cls = self.cls_fc(x)
        out_box = self.box_fc(x)
        loss_dict = loss.multiloss({given})
        return {{"out_cls": out_cls, "loss": loss_dict}}
"""


def _project(tmp_path: Path, ending: str, given: str) -> Path:
    write_project(tmp_path, {"pipeline/__init__.py": "", "pipeline/loss.py": LOSSES,
                             "models/net.py": NET.format(ending=ending, given=given)})
    return tmp_path / "models" / "net.py"


def test_a_sigmoid_head_handed_by_keyword_to_a_loss_module(tmp_path: Path) -> None:
    net = _project(tmp_path, ", nn.Sigmoid()", "output_cls=out_cls, output_box=out_box, target=target")
    [finding] = lint_in_process(net, "GL215")
    assert finding.line == 17
    assert ("self.cls_fc's output (line 10) is sigmoid probabilities, and this line hands it to `loss.multiloss`, "
            "which feeds it to F.binary_cross_entropy_with_logits") in finding.message


def test_the_same_head_handed_by_position(tmp_path: Path) -> None:
    net = _project(tmp_path, ", nn.Sigmoid()", "out_cls, out_box, target")
    [finding] = lint_in_process(net, "GL215")
    assert finding.line == 17 and "hands it to `loss.multiloss`" in finding.message


def test_logits_handed_to_the_loss_module_are_not_reported(tmp_path: Path) -> None:
    net = _project(tmp_path, "", "output_cls=out_cls, output_box=out_box, target=target")
    assert lint_in_process(net, "GL215") == []


def test_the_sigmoid_head_handed_to_the_regression_loss_only_is_not_reported(tmp_path: Path) -> None:
    net = _project(tmp_path, ", nn.Sigmoid()", "output_cls=out_box, output_box=out_cls, target=target")
    assert lint_in_process(net, "GL215") == []
