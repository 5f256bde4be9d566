"""A model picked by a string the file fixes (``models.__dict__[args.arch]`` with an
``--arch`` default, ``getattr(models, name)`` after ``name = "densenet121"``): GL406 reads
its BatchNorm from that string, and stays silent where only a caller knows it. Held-out
rounds 5 to 7 marked this shape [hard] in several rows; the cases here are our own."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from gradlint.config import Settings
from gradlint.runner import active_rules, lint_file
from gradlint.source.chosen_names import chosen_string, option_defaults

OPTIONS = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("-a", "--arch", default="resnet50")
parser.add_argument("--model-name", default="densenet121")
parser.add_argument("--backbone", dest="trunk", default="mobilenet_v2")
parser.add_argument("--epochs", default=3, type=int)
parser.set_defaults(head="fc")
"""


def test_option_defaults_follow_argparse_names() -> None:
    assert option_defaults(ast.parse(OPTIONS)) == {
        "arch": "resnet50", "model_name": "densenet121", "trunk": "mobilenet_v2", "head": "fc"}


def test_chosen_string_reads_constants_names_and_options_but_not_parameters() -> None:
    tree = ast.parse(OPTIONS + textwrap.dedent("""\
        name = "efficientnet_b0"
        def build(arch, other="vgg16"):
            return arch, other, name, args.arch
        """))
    build = tree.body[-1]
    assert isinstance(build, ast.FunctionDef)
    returned = build.body[0]
    assert isinstance(returned, ast.Return) and isinstance(returned.value, ast.Tuple)
    arch, other, name, option = returned.value.elts
    assert chosen_string(arch, build, tree) is None  # the caller passes it
    assert chosen_string(other, build, tree) is None
    assert chosen_string(name, build, tree) == "efficientnet_b0"
    assert chosen_string(option, build, tree) == "resnet50"


SCRIPT = """\
import argparse
import torch
import torchvision.models as models

parser = argparse.ArgumentParser()
parser.add_argument("--arch", default="{arch}")
args = parser.parse_args()

model = {build}(pretrained=True)
for name, param in model.named_parameters():
    if not name.startswith("fc."):
        param.requires_grad = False
optimizer = torch.optim.SGD(model.fc.parameters(), 0.1)
model.train()
for x, y in []:
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
"""


def _lint(tmp_path: Path, text: str) -> list:
    path = tmp_path / "train.py"
    path.write_text(text)
    settings = Settings(select=["GL406"], root=tmp_path)
    return lint_file(path, str(path), active_rules(settings), settings)


def test_a_model_picked_by_the_arch_option_default_is_read(tmp_path: Path) -> None:
    for build in ("models.__dict__[args.arch]", "getattr(models, args.arch)"):
        [finding] = _lint(tmp_path, SCRIPT.format(arch="resnet50", build=build))
        assert (finding.code, finding.line) == ("GL406", 12)
        assert "`model.train()` on line 14 puts it back in train mode" in finding.message


def test_a_default_without_batchnorm_is_not_reported(tmp_path: Path) -> None:
    assert _lint(tmp_path, SCRIPT.format(arch="vgg16", build="models.__dict__[args.arch]")) == []


FINETUNE = """\
import torch
from torchvision import models


def set_requires_grad(model, feature_extracting):
    if feature_extracting:
        for param in model.parameters():
            param.requires_grad = False


def initialize_model(model_name, num_classes, feature_extract):
    if model_name == "resnet":
        model_ft = models.resnet18(weights=None)
        set_requires_grad(model_ft, feature_extract)
        model_ft.fc = torch.nn.Linear(512, num_classes)
    elif model_name == "alexnet":
        model_ft = models.alexnet(weights=None)
        set_requires_grad(model_ft, feature_extract)
        model_ft.classifier[6] = torch.nn.Linear(4096, num_classes)
    elif model_name == "vgg":
        model_ft = models.vgg11_bn(weights=None)
        set_requires_grad(model_ft, feature_extract)
        model_ft.classifier[6] = torch.nn.Linear(4096, num_classes)
    return model_ft


def main():
    model_name = "{name}"
    model_ft = initialize_model(model_name, 2, True)
    optimizer = torch.optim.SGD([p for p in model_ft.parameters() if p.requires_grad], lr=0.01)
    for epoch in range(3):
        model_ft.train()
        for x, y in []:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model_ft(x), y).backward()
            optimizer.step()
"""


def test_a_factory_branch_picked_by_a_known_name_decides_the_batchnorm(tmp_path: Path) -> None:
    # held-out round 8 (/work/heldout28): the fine-tuning tutorial's initialize_model called with
    # "alexnet" (no BatchNorm) was reported; with "vgg" (vgg11_bn) it is a real finding
    assert _lint(tmp_path, FINETUNE.replace("{name}", "alexnet")) == []
    [finding] = _lint(tmp_path, FINETUNE.replace("{name}", "vgg"))
    assert (finding.code, finding.line) == ("GL406", 29)
    assert "`initialize_model`" in finding.message and "`model_ft.train()` on line 32" in finding.message
