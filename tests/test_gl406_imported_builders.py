"""GL406 through two ways a project module hands a script its frozen model, both from
held-out round 12 (/work/heldout36, /work/heldout37): a method that builds, freezes and
returns a model (``ImageClassifier().pretrained()``), and a model frozen at module level
next to a loader that makes it trainable again, which the script calls only on the other
branch of an ``if``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

BUILDER = """\
    import torch.nn as nn
    from torchvision import models


    class ImageClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(512, 2)

        def pretrained(self):
            model = models.resnet18(weights=None)
            for param in model.parameters():
                param.requires_grad = False
            model.fc = nn.Linear(model.fc.in_features, 2)
            return model

        def scratch(self):
            return models.resnet18(weights=None)
"""

BUILDER_SCRIPT = """\
    import torch
    from torch import nn

    from model import *


    def training(model, loader, optimizer):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


    def main():
        builder = ImageClassifier()
        model = builder.{method}()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        for epoch in range(3):
            training(model, [], optimizer)
"""


def test_a_method_building_a_frozen_model_for_the_script(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": BUILDER, "train.py": BUILDER_SCRIPT.format(method="pretrained")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 17)
    assert finding.message.startswith("`model` has BatchNorm layers and `ImageClassifier.pretrained` (model.py:12) "
                                      "returns it with its parameters frozen, but `model.train()` on line 8")


def test_a_method_building_a_trainable_model_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": BUILDER, "train.py": BUILDER_SCRIPT.format(method="scratch")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_method_of_another_class_with_the_same_name_is_not_the_builder(tmp_path: Path) -> None:
    script = BUILDER_SCRIPT.format(method="pretrained").replace("builder = ImageClassifier()", "builder = Other()")
    script = script.replace("from model import *\n", "from model import *\n\n\nclass Other:\n"
                            "    def pretrained(self):\n        return nn.Linear(2, 2)\n")
    write_project(tmp_path, {"model.py": BUILDER, "train.py": script})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


FROZEN_MODULE = """\
    import torch
    import torch.nn as nn
    from torchvision import models

    pretrained_model = models.resnext50_32x4d(weights=None)
    for param in pretrained_model.parameters():
        param.requires_grad = False
    pretrained_model.fc = nn.Linear(pretrained_model.fc.in_features, 20)


    def load_model_and_unfreeze_parameters(path):
        pretrained_model.load_state_dict(torch.load(path))
        for param in pretrained_model.parameters():
            param.requires_grad = True
        return pretrained_model
"""

FROZEN_MODULE_SCRIPT = """\
    import argparse

    import torch
    from torch import nn

    from model import load_model_and_unfreeze_parameters, pretrained_model

    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", default="")
    args = parser.parse_args()


    def train(model, loader, optimizer):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


    {choice}
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(3):
        train(model, [], optimizer)
"""


def test_a_module_level_freeze_is_kept_on_the_branch_that_never_unfreezes(tmp_path: Path) -> None:
    choice = ("if args.checkpoint == '':\n        model = pretrained_model\n    else:\n"
              "        model = load_model_and_unfreeze_parameters(args.checkpoint)")
    write_project(tmp_path, {"model.py": FROZEN_MODULE, "train.py": FROZEN_MODULE_SCRIPT.format(choice=choice)})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 6)
    assert finding.message.startswith("`model` has BatchNorm layers and it is frozen where it is built (model.py:6) "
                                      "and imported here as `pretrained_model`, which `model` holds (line 22)")


def test_a_module_level_freeze_undone_by_the_loader_the_script_calls_is_quiet(tmp_path: Path) -> None:
    choice = "model = pretrained_model\n    load_model_and_unfreeze_parameters(args.checkpoint)"
    write_project(tmp_path, {"model.py": FROZEN_MODULE, "train.py": FROZEN_MODULE_SCRIPT.format(choice=choice)})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
