"""GL406 on classes that freeze their backbone and make some stages trainable again, a miss
of held-out round 45 (``bench/heldout/round45/a``, a re-identification project), in our own
words: ``__init__`` freezes all of a ResNet, then an ``if mode == ...`` arm makes
``layer4``, ``avgpool`` and ``fc`` trainable; the stem keeps its BatchNorm frozen.

- ``avgpool`` holds no parameters: "unfreezing" it changes nothing, and it is no reason to
  read the freeze as undone.
- The file's other wrappers unfreeze ``self.model.features.norm5`` (a DenseNet's last norm):
  that is their own ``self.model``, not the ResNet wrapper's.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

WRAPPERS = """\
import torch.nn as nn
import torchvision


class ResNetEmbedder(nn.Module):
    def __init__(self, start):
        super().__init__()
        if start == "all":
            self.model = torchvision.models.resnet34(pretrained=False)
        else:
            self.model = torchvision.models.resnet34(pretrained=True)
            for p in self.model.parameters():
                p.requires_grad = False
            if start == "layer4":
                for p in self.model.layer4.parameters():
                    p.requires_grad = True
                for p in self.model.{pool}.parameters():
                    p.requires_grad = True
                for p in self.model.fc.parameters():
                    p.requires_grad = True

    def forward(self, x):
        return self.model(x)
{other}"""

DENSENET = """

class DenseNetEmbedder(nn.Module):
    def __init__(self, start):
        super().__init__()
        self.model = torchvision.models.densenet121(pretrained=True)
        for p in self.model.parameters():
            p.requires_grad = False
        if start == "last":
            for p in self.model.features.norm5.parameters():
                p.requires_grad = True
        for p in self.model.classifier.parameters():
            p.requires_grad = True

    def forward(self, x):
        return self.model(x)
"""

SCRIPT = """\
import argparse
import torch
from nets import ResNetEmbedder

parser = argparse.ArgumentParser()
parser.add_argument("--start", default="layer4")
args = parser.parse_args()

model = ResNetEmbedder(args.start)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)


def fit(loader, epochs):
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            optimizer.step()
"""


def test_unfreezing_a_parameterless_pool_beside_the_last_stage_leaves_the_stem_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": WRAPPERS.format(pool="avgpool", other=""), "train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 9)
    assert "`model.model`" in finding.message and "`ResNetEmbedder` (nets.py:12)" in finding.message


def test_a_part_with_parameters_beside_the_last_stage_is_still_read_as_undone(tmp_path: Path) -> None:
    # ``conv1`` is neither a head nor a stage: what stays frozen is unknown, nothing is said
    write_project(tmp_path, {"nets.py": WRAPPERS.format(pool="conv1", other=""), "train.py": SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_another_class_unfreezing_its_own_model_part_says_nothing_of_this_class(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": WRAPPERS.format(pool="avgpool", other=DENSENET), "train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 9)


def _lint_with(path: Path, **options: object) -> list:
    from gradlint.config import Settings
    from gradlint.runner import active_rules, lint_file

    settings = Settings(select=["GL406"], root=path.parent, rule_options={"GL406": dict(options)})
    return lint_file(path, str(path), active_rules(settings), settings)


def test_partial_freezes_false_leaves_out_a_model_whose_later_stages_train(tmp_path: Path) -> None:
    # the class's own stage unfreezes (layer4) and a script's (model.layer4) are partial fine-tunings
    write_project(tmp_path, {"nets.py": WRAPPERS.format(pool="avgpool", other=""), "train.py": SCRIPT})
    assert [f.line for f in _lint_with(tmp_path / "train.py", **{"partial-freezes": True})] == [9]
    assert _lint_with(tmp_path / "train.py", **{"partial-freezes": False}) == []
    script = tmp_path / "probe.py"
    script.write_text(
        "import torch\nfrom torchvision import models\n\nmodel = models.resnet18(weights='DEFAULT')\n"
        "for p in model.parameters():\n    p.requires_grad = False\nfor p in model.{part}.parameters():\n"
        "    p.requires_grad = True\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n\n\n"
        "def fit(loader):\n    model.train()\n    for x, y in loader:\n        optimizer.zero_grad()\n"
        "        torch.nn.functional.cross_entropy(model(x), y).backward()\n        optimizer.step()\n"
    )
    text = script.read_text()
    script.write_text(text.replace("{part}", "layer4"))
    assert _lint_with(script, **{"partial-freezes": False}) == []
    assert [f.line for f in _lint_with(script, **{"partial-freezes": True})] == [6]
    # a linear probe (only the head trains) is reported either way
    script.write_text(text.replace("{part}", "fc"))
    assert [f.line for f in _lint_with(script, **{"partial-freezes": False})] == [6]
