"""A model picked by a string the file fixes (``models.__dict__[args.arch]`` with an
``--arch`` default, ``getattr(models, name)`` after ``name = "densenet121"``): GL406 reads
its BatchNorm from that string, and stays silent where only a caller knows it. Held-out
rounds 5 to 7 marked this shape [hard] in several rows; the cases here are our own."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from conftest import lint_in_process
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
    return lint_in_process(path, "GL406")


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


# the head-only training every script below ends with
_CLASSIFIER_TRAINING = """\
optimizer = torch.optim.Adam(model.classifier.parameters(), lr=1e-3)
model.train()
for x, y in []:
    optimizer.zero_grad()
    torch.nn.functional.nll_loss(model(x), y).backward()
    optimizer.step()
"""

BUILDER = """\
from torchvision import models


def build_model(arch, hidden):
    if arch == "vgg19":
        model = models.vgg19(weights=None)
    elif arch == "densenet121":
        model = models.densenet121(weights=None)
    else:
        model = models.vgg16(weights=None)
    for param in model.parameters():
        param.requires_grad = True
    return model
"""

BUILDER_SCRIPT = """\
import argparse
import torch
from builders import build_model

parser = argparse.ArgumentParser()
parser.add_argument("--arch", dest="arch", default="{arch}")
results = parser.parse_args()
arch = results.arch
model = build_model(arch, 512)
""" + _CLASSIFIER_TRAINING


def test_a_builder_picking_the_architecture_by_a_string_written_in_the_code(tmp_path: Path) -> None:
    # a string written in the script picks the arm: build_model("vgg19") builds no BatchNorm
    (tmp_path / "builders.py").write_text(BUILDER)
    written = BUILDER_SCRIPT.replace("model = build_model(arch, 512)", 'model = build_model("{arch}", 512)')
    assert _lint(tmp_path, written.format(arch="vgg19")) == []
    assert _lint(tmp_path, written.format(arch="alexnet")) == []  # the else branch: vgg16
    [finding] = _lint(tmp_path, written.format(arch="densenet121"))
    assert (finding.code, finding.line) == ("GL406", 10)
    assert "only `model.classifier` is optimised here" in finding.message


def test_a_command_line_default_is_one_configuration_of_the_builder(tmp_path: Path) -> None:
    # held-out rounds 9 and 15 (/work/heldout30, /work/heldout42): --arch defaulting to vgg19
    # picks one arm; `--arch densenet121` trains a frozen DenseNet in train mode all the same
    (tmp_path / "builders.py").write_text(BUILDER)
    [finding] = _lint(tmp_path, BUILDER_SCRIPT.format(arch="vgg19"))
    assert (finding.code, finding.line) == ("GL406", 10)


TABLE_SCRIPT = """\
import argparse
import torch
from torchvision import models

parser = argparse.ArgumentParser()
parser.add_argument("--arch", default="{arch}")
args = parser.parse_args()
archs = {{"densenet201": models.densenet201(weights=None), "vgg16": models.vgg16(weights=None)}}
model = archs[args.arch]
for param in model.parameters():
    param.requires_grad = False
""" + _CLASSIFIER_TRAINING


def test_a_model_picked_from_a_table_by_a_known_key(tmp_path: Path) -> None:
    # held-out round 9 (/work/heldout30): {"densenet201": ..., "densenet161": ...}[arch]
    [finding] = _lint(tmp_path, TABLE_SCRIPT.format(arch="densenet201"))
    assert (finding.code, finding.line) == ("GL406", 11)
    assert _lint(tmp_path, TABLE_SCRIPT.format(arch="vgg16")) == []


MATCH_SCRIPT = """\
import torch
from torchvision import models


def build(arch):
    match arch:
        case "densenet":
            model = models.densenet201(weights=None)
            for param in model.parameters():
                param.requires_grad = False
        case "efficientnet":
            model = models.efficientnet_v2_s(weights=None)
            for param in model.parameters():
                param.requires_grad = False
""" + textwrap.indent(_CLASSIFIER_TRAINING, "    ")


def test_each_case_of_a_match_freezes_its_own_model(tmp_path: Path) -> None:
    # held-out round 9 (/work/heldout30): two cases of one match statement, two models to fix
    assert [(f.code, f.line) for f in _lint(tmp_path, MATCH_SCRIPT)] == [("GL406", 10), ("GL406", 14)]
