"""GL406 on shapes held-out round 14 (/work/heldout40, /work/heldout41) found it could not
read; each project is written here in our own words:
- a class that freezes its whole backbone and trains the last stage again (``layer4`` and
  ``fc``): the stem and the earlier stages stay frozen;
- a course project's ``initialize_model(args.arch)`` of another module returning
  ``(model, input_size)``, with ``--arch`` defaulting to a DenseNet;
- the course loop that validates every few steps (``model.eval()`` ... ``model.train()``
  inside the training loop) and evaluates on the test set after it: that last eval does
  not put the frozen features back in eval for the training steps."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

TRANSFER = """\
    import torch.nn as nn
    from torchvision import models


    class ResNetTransfer(nn.Module):
        def __init__(self, classes=4):
            super().__init__()
            self.backbone = models.resnet18(weights=None)
            for p in self.backbone.parameters():
                p.requires_grad = False
            for p in self.backbone.{stage}.parameters():
                p.requires_grad = True
            self.backbone.fc = nn.Linear(512, classes)

        def forward(self, x):
            return self.backbone(x)
"""

SCRIPT = """\
    import torch
    from torch import nn

    from transfer import ResNetTransfer

    model = ResNetTransfer()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
    for epoch in range(3):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


def test_a_class_training_its_last_stage_again_keeps_the_stem_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"transfer.py": TRANSFER.format(stage="layer4"), "train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 6)
    assert finding.message.startswith("`model.backbone` has BatchNorm layers and `ResNetTransfer` (transfer.py:9)")


def test_a_class_training_all_of_its_backbone_again_is_quiet(tmp_path: Path) -> None:
    transfer = TRANSFER.replace("for p in self.backbone.{stage}.parameters():", "for p in self.backbone.parameters():")
    write_project(tmp_path, {"transfer.py": transfer, "train.py": SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


BUILDER = """\
    from torchvision import models


    def initialize_model(model_name):
        if model_name == "densenet":
            model_ft = models.densenet121(weights=None)
            size = model_ft.classifier.in_features
        elif model_name == "alexnet":
            model_ft = models.alexnet(weights=None)
            size = 9216
        return model_ft, size
"""

COURSE = """\
    import argparse

    import torch
    from torch import nn

    from create_classifier import initialize_model

    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", default="{arch}", choices=["densenet", "alexnet"])
    args = parser.parse_args()

    model, size = initialize_model(args.arch)
    for param in model.parameters():
        param.requires_grad = False
    model.classifier = nn.Linear(size, 102)
    optimizer = torch.optim.Adam(model.classifier.parameters())
    steps = 0
    for epoch in range(3):
        for x, y in []:
            steps += 1
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
            if steps % 5 == 0:
                model.eval()
                with torch.no_grad():
                    accuracy = (model(x).argmax(1) == y).float().mean()
                model.train()
    model.eval()
    with torch.no_grad():
        test_accuracy = [(model(x).argmax(1) == y).float().mean() for x, y in []]
"""


def test_a_builder_returning_a_tuple_picked_by_the_arch_default(tmp_path: Path) -> None:
    write_project(tmp_path, {"create_classifier.py": BUILDER, "train.py": COURSE.format(arch="densenet")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 14)
    assert "but `model.train()` on line 28 puts it back in train mode" in finding.message


def test_another_default_is_one_configuration_of_several(tmp_path: Path) -> None:
    # held-out round 15: a command-line default picks one configuration; `--arch densenet`
    # still freezes a DenseNet and trains it in train mode
    write_project(tmp_path, {"create_classifier.py": BUILDER, "train.py": COURSE.format(arch="alexnet")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 14)


def test_a_builder_without_batchnorm_in_any_arm_is_quiet(tmp_path: Path) -> None:
    builder = BUILDER.replace("models.densenet121(weights=None)", "models.vgg11(weights=None)")
    write_project(tmp_path, {"create_classifier.py": builder, "train.py": COURSE.format(arch="densenet")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_an_eval_inside_the_training_loop_after_the_train_call_puts_it_back(tmp_path: Path) -> None:
    # model.eval() right after the validation's model.train(), before the next training step
    course = COURSE.format(arch="densenet").replace("                model.train()\n",
                                                    "                model.train()\n                model.eval()\n")
    write_project(tmp_path, {"create_classifier.py": BUILDER, "train.py": course})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_name_filtered_freeze_whose_other_branch_sets_a_false_flag(tmp_path: Path) -> None:
    # the captioning tutorial: every Inception parameter but fc gets ``requires_grad = train_cnn``
    script = ("import torch\nimport torchvision\nfrom torch import nn\n\ntrain_cnn = {flag}\n"
              "model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)\n"
              "optimizer = torch.optim.Adam(model.parameters())\n"
              "for name, param in model.named_parameters():\n    if \"fc.weight\" in name or \"fc.bias\" in name:\n"
              "        param.requires_grad = True\n    else:\n        param.requires_grad = train_cnn\n"
              "model.train()\nfor x, y in []:\n    optimizer.zero_grad()\n"
              "    nn.functional.cross_entropy(model(x), y).backward()\n    optimizer.step()\n")
    write_project(tmp_path, {"train.py": script.format(flag="False")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 12)
    write_project(tmp_path, {"train.py": script.format(flag="True")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
