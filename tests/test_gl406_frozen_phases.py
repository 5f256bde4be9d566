"""GL406 on detection-style training scripts (held-out round 19b, /work/heldout51): the
backbone frozen for the first ``Freeze_Epoch`` epochs of the epoch loop, then made
trainable under ``if epoch >= Freeze_Epoch``, with the model trained under another name
(``model_train = model.train()``, ``DataParallel(model)``); written in our own words. A long
frozen phase is reported, a short warm-up is not."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

NETS = """\
    from torch import nn


    def resnet18(pretrained=False):
        return ResNet([2, 2, 2, 2])


    def resnet50(pretrained=False):
        return ResNet([3, 4, 6, 3])


    class ResNet(nn.Module):
        def __init__(self, layers):
            super().__init__()
            norm_layer = nn.BatchNorm2d
            self.conv1 = nn.Conv2d(3, 64, 7)
            self.bn1 = norm_layer(64)


    class Backbone(nn.Module):
        def __init__(self, phi):
            super().__init__()
            self.edition = [resnet18, resnet50]
            self.model = self.edition[phi]()


    class Detector(nn.Module):
        def __init__(self, phi):
            super().__init__()
            self.backbone = Backbone(phi)
            self.head = nn.Conv2d(2048, 20, 1)
"""

FIT = """\
    def fit_one_epoch(model_train, loader, optimizer):
        model_train.train()
        for images, targets in loader:
            optimizer.zero_grad()
            model_train(images).sum().backward()
            optimizer.step()
"""

TRAIN = """\
    import torch

    from nets import Detector
    from utils_fit import fit_one_epoch

    Freeze_Epoch = {frozen}
    UnFreeze_Epoch = 100
    Freeze_Train = True

    model = Detector(1)
    model_train = model.train()
    if torch.cuda.is_available():
        model_train = torch.nn.DataParallel(model)
    if Freeze_Train:
        for param in model.backbone.parameters():
            param.requires_grad = False
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()))
    for epoch in range(0, UnFreeze_Epoch):
        if epoch >= Freeze_Epoch and Freeze_Train:
            for param in model.backbone.parameters():
                param.requires_grad = True
        fit_one_epoch(model_train, [], optimizer)
"""


def _lint(tmp_path: Path, frozen: int) -> list:
    write_project(tmp_path, {"nets.py": NETS, "utils_fit.py": FIT, "train.py": TRAIN.format(frozen=frozen)})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_a_long_frozen_phase_of_the_epoch_loop_is_reported(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, 50)
    assert (finding.code, finding.line) == ("GL406", 16)
    assert finding.message.startswith("`model_train.backbone` has BatchNorm layers and its parameters are frozen here "
                                      "as `model.backbone`")
    assert "for the epochs before line 20 makes it trainable again" in finding.message
    assert "`model_train.train()` in `fit_one_epoch` (utils_fit.py:2), called on line 22" in finding.message


def test_a_short_warm_up_is_quiet(tmp_path: Path) -> None:
    assert _lint(tmp_path, 3) == []


def test_an_unfreeze_before_the_loop_is_quiet(tmp_path: Path) -> None:
    source = TRAIN.format(frozen=50).replace(
        "    optimizer = torch.optim.Adam(",
        "    for param in model.backbone.parameters():\n        param.requires_grad = True\n"
        "    optimizer = torch.optim.Adam(")
    write_project(tmp_path, {"nets.py": NETS, "utils_fit.py": FIT, "train.py": source})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_sequential_warm_up_then_fine_tuning_is_quiet(tmp_path: Path) -> None:
    source = """\
    import torch
    import torchvision

    from utils_fit import fit_one_epoch

    model = torchvision.models.resnet50(weights=None)
    for param in model.parameters():
        param.requires_grad = False
    model.fc = torch.nn.Linear(2048, 10)
    optimizer = torch.optim.Adam(model.fc.parameters())
    for epoch in range(5):
        fit_one_epoch(model, [], optimizer)
    for param in model.parameters():
        param.requires_grad = True
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(30):
        fit_one_epoch(model, [], optimizer)
"""
    write_project(tmp_path, {"utils_fit.py": FIT, "train.py": source})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


SEQUENTIAL = """\
    import argparse

    import torch
    import torchvision

    from utils_fit import fit_one_epoch


    def main(args):
        model = torchvision.models.resnet50(weights=None)
        model_without_ddp = model
        if args.distributed:
            model = torch.nn.parallel.DistributedDataParallel(model)
            model_without_ddp = model.module
        if args.Freeze_Epoch != 0:
            for param in {frozen}.parameters():
                param.requires_grad = False
            optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
            for epoch in range(args.Init_Epoch + 1, args.Freeze_Epoch + 1):
                fit_one_epoch(model, [], optimizer)
        for param in {frozen}.parameters():
            param.requires_grad = True
        optimizer = torch.optim.Adam(model.parameters())
        for epoch in range(args.Freeze_Epoch + 1, 100):
            fit_one_epoch(model, [], optimizer)


    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--Init_Epoch", type=int, default=0)
        parser.add_argument("--Freeze_Epoch", type=int, default={epochs})
        parser.add_argument("--distributed", action="store_true")
        main(parser.parse_args())
"""


def test_a_long_frozen_phase_in_a_loop_of_its_own_before_fine_tuning_is_reported(tmp_path: Path) -> None:
    """Held-out round 21a (HDTX-code): a first loop of ``Freeze_Epoch`` epochs (an option's
    default, 12) on the frozen backbone, then the unfreeze and a second loop."""
    write_project(tmp_path, {"utils_fit.py": FIT, "train.py": SEQUENTIAL.format(frozen="model.layer1", epochs=12)})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 17)
    assert "for the epochs before line 21 makes it trainable again" in finding.message
    assert "`model_train.train()` in `fit_one_epoch` (utils_fit.py:2), called on line 20 with `model`" in finding.message
    write_project(tmp_path, {"train.py": SEQUENTIAL.format(frozen="model.layer1", epochs=4)})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_freeze_through_the_unwrapped_alias_of_a_ddp_model(tmp_path: Path) -> None:
    """``model_without_ddp = model.module`` is the trained model (torchvision's reference scripts)."""
    write_project(tmp_path, {"utils_fit.py": FIT,
                             "train.py": SEQUENTIAL.format(frozen="model_without_ddp.layer1", epochs=24)})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 17)
    assert finding.message.startswith("`model.layer1` has BatchNorm layers and its parameters are frozen here as "
                                      "`model_without_ddp.layer1`, which `model` holds (line 14) for the epochs before "
                                      "line 21 makes it trainable again")
