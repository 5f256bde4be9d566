"""GL406 on shapes held-out round 15 (/work/heldout43) showed it reading wrongly; each
project is written here in our own words:
- adversarial domain adaptation (ADDA) alternating two steps in one loop with a
  ``set_requires_grad(net, flag)`` helper: frozen for one step, trainable for the other;
- ``with torch.no_grad(): self.model.eval()``: switching the mode runs no module;
- an optimiser on ``self.model.fc`` where ``fc`` is all the model holds."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ADDA = """\
    import torch
    from torch import nn
    from torchvision import models


    def set_requires_grad(model, requires_grad=True):
        for param in model.parameters():
            param.requires_grad = requires_grad


    def adapt(loader):
        target_encoder = models.resnet18(weights=None)
        critic = nn.Sequential(nn.Linear(1000, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 1))
        critic_optim = torch.optim.Adam(critic.parameters())
        encoder_optim = torch.optim.Adam(target_encoder.parameters())
        bce = nn.BCEWithLogitsLoss()
        for epoch in range(10):
            target_encoder.train(), critic.train()
            for x, domain in loader:
                set_requires_grad(target_encoder, requires_grad=False)
                set_requires_grad(critic, requires_grad=True)
                critic_optim.zero_grad()
                bce(critic(target_encoder(x)), domain).backward()
                critic_optim.step()
                set_requires_grad(target_encoder, requires_grad={encoder_back})
                set_requires_grad(critic, requires_grad=False)
                encoder_optim.zero_grad()
                bce(critic(target_encoder(x)), 1 - domain).backward()
                encoder_optim.step()
"""


def test_alternating_steps_freeze_and_unfreeze_in_one_loop(tmp_path: Path) -> None:
    write_project(tmp_path, {"adda.py": ADDA.format(encoder_back="True")})
    assert lint_in_process(tmp_path / "adda.py", "GL406") == []


def test_an_encoder_never_made_trainable_again_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"adda.py": ADDA.format(encoder_back="False")})
    [finding] = lint_in_process(tmp_path / "adda.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 20)
    assert finding.message.startswith("`target_encoder` has BatchNorm layers and `set_requires_grad` (line 7) freezes")


HEAD_ONLY = """\
    import torch
    from torch import nn


    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Sequential(nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 11))

        def forward(self, x):
            return self.fc(x)


    class Trainer:
        def __init__(self, cuda):
            self.model = Head().cuda() if cuda else Head()
            self.optimizer = torch.optim.Adam(self.model.fc.parameters())

        def train(self, loader):
            for epoch in range(3):
                self.model.train()
                for x, y in loader:
                    self.optimizer.zero_grad()
                    nn.functional.cross_entropy(self.model(x), y).backward()
                    self.optimizer.step()
                self.valid(loader)

        def valid(self, loader):
            with torch.no_grad():
                self.model.eval()
                for x, y in loader:
                    self.model(x)
"""


def test_an_optimiser_on_the_only_part_leaves_nothing_out(tmp_path: Path) -> None:
    write_project(tmp_path, {"trainer.py": HEAD_ONLY})
    assert lint_in_process(tmp_path / "trainer.py", "GL406") == []


def test_an_optimiser_on_one_of_two_parts_leaves_the_other_frozen(tmp_path: Path) -> None:
    two = HEAD_ONLY.replace("            self.fc = nn.Sequential(",
                            "            self.stem = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))\n"
                            "            self.fc = nn.Sequential(")
    write_project(tmp_path, {"trainer.py": two})
    [finding] = lint_in_process(tmp_path / "trainer.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 18)
    assert finding.message.startswith("`self.model` has BatchNorm layers and only `self.model.fc` is optimised here")


NOTEBOOK = """\
    import torch
    from torch import nn
    from torchvision import models

    encoder = models.resnet18(weights=None)
    head = nn.Linear(1000, 2)
    optimizer = torch.optim.Adam(head.parameters())
    for epoch in range(10):
        encoder.train()
        for x, y in []:
            encoder.requires_grad_(False)
            optimizer.zero_grad()
            nn.functional.cross_entropy(head(encoder(x)), y).backward()
            optimizer.step()
"""


def test_a_notebooks_train_call_before_the_freeze_in_one_loop(tmp_path: Path) -> None:
    # module-level code runs once, in order, except inside a loop: the epoch loop calls
    # encoder.train() again after the freeze of the first step
    write_project(tmp_path, {"notebook.py": NOTEBOOK})
    [finding] = lint_in_process(tmp_path / "notebook.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 11)
    assert "`encoder.train()` on line 9" in finding.message


NEGATED_FLAG = """\
    import argparse

    import torch
    from torch import nn
    from torchvision import models


    def set_freeze(model, freeze):
        if freeze:
            for param in model.parameters():
                param.requires_grad = False


    parser = argparse.ArgumentParser()
    parser.add_argument("--no_freeze", action="store_true")
    args = parser.parse_args()
    freeze = {flag}
    net = models.resnet50(weights=None)
    set_freeze(net, freeze)
    net.fc = nn.Linear(2048, 65)
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=0.1)
    for epoch in range(3):
        net.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            optimizer.step()
"""


def test_a_flag_set_to_the_negation_of_an_option(tmp_path: Path) -> None:
    # held-out round 15 (m1stborn): freeze = not args.no_freeze, so frozen by default
    write_project(tmp_path, {"train.py": NEGATED_FLAG.format(flag="not args.no_freeze")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 19)
    assert finding.message.startswith("`net` has BatchNorm layers and `set_freeze` (line 10) freezes")


def test_a_flag_set_to_an_option_that_is_off_by_default(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": NEGATED_FLAG.format(flag="args.no_freeze")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


FEATURES_MODULE = """\
    import torch
    from torch import nn
    from torchvision import models

    resnet50 = models.resnet50(weights=None)
    resnet50 = nn.Sequential(*list(resnet50.children())[:-1])
    for p in resnet50.parameters():
        p.requires_grad = False{evals}
"""

VIDEO_SCRIPT = """\
    import torch
    from torch import nn

    from model import resnet50

    rnn = nn.LSTM(2048, 64)
    head = nn.Linear(64, 11)
    optimizer = torch.optim.Adam(list(rnn.parameters()) + list(head.parameters()))
    for epoch in range(10):
        for video, labels in []:
            loss = 0
            for frame, label in zip(video, labels):
                features = resnet50(frame.unsqueeze(0))
                out, _ = rnn(features.view(1, 1, -1))
                loss = loss + nn.functional.cross_entropy(head(out[0]), label)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


def test_an_imported_frozen_model_run_per_frame_in_train_mode(tmp_path: Path) -> None:
    # held-out round 15 (CheNgH826): a module-level frozen ResNet imported by the script,
    # run on each frame inside the loop over videos that steps, never put in eval mode
    write_project(tmp_path, {"model.py": FEATURES_MODULE.format(evals=""), "train.py": VIDEO_SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 4)
    assert finding.message.startswith("`resnet50` has BatchNorm layers and it is frozen where it is built (model.py:7) "
                                      "and imported here, but nothing puts it in eval mode")
    assert "running it on line 13 in the training loop" in finding.message


def test_an_imported_frozen_model_the_module_puts_in_eval_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": FEATURES_MODULE.format(evals="\nresnet50.eval()"), "train.py": VIDEO_SCRIPT})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


NAMED_CHILDREN = """\
    import torch
    from torch import nn
    from torchvision import models


    class PretrainedResnet(nn.Module):
        def __init__(self, classes=50):
            super().__init__()
            model = models.resnet50(weights=None)
            for name, child in model.named_children():
                if {test}:
                    for param in child.parameters():
                        param.requires_grad = False
            self.features = nn.Sequential(*list(model.children())[:-1])
            self.classifier = nn.Linear(2048, classes)

        def forward(self, x):
            return self.classifier(self.features(x).flatten(1))


    net = PretrainedResnet()
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=0.1)
    for epoch in range(3):
        net.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(net(x), y).backward()
            optimizer.step()
"""


def test_children_frozen_by_name_but_the_last_stages(tmp_path: Path) -> None:
    # held-out round 15 (m1stborn HW1): the stem, layer1 and layer2 frozen, trained in train mode
    write_project(tmp_path, {"train.py": NAMED_CHILDREN.format(test='name not in ["layer3", "layer4"]')})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 13)
    assert finding.message.startswith("`net.features` has BatchNorm layers and its child modules other than `layer3`, "
                                      "`layer4` are frozen here, but `net.train()` on line 24")
    assert finding.fix is None  # part of the features trains: an eval() of all of them is not the fix


def test_an_imported_class_freezing_children_by_name(tmp_path: Path) -> None:
    source = NAMED_CHILDREN.format(test='name not in ["layer3", "layer4"]')
    model, script = source.split("    net = PretrainedResnet()")
    write_project(tmp_path, {"model_p1/__init__.py": "", "model_p1/resnet.py": model,
                             "train.py": "    import torch\n    from torch import nn\n\n"
                                         "    from model_p1.resnet import PretrainedResnet\n\n"
                                         "    net = PretrainedResnet()" + script})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 6)
    assert finding.message.startswith("`net.features` has BatchNorm layers and `PretrainedResnet` "
                                      "(model_p1/resnet.py:10) returns it with its child modules other than `layer3`, "
                                      "`layer4` frozen, but")
    assert finding.fix is None


def test_only_the_head_frozen_by_name_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": NAMED_CHILDREN.format(test='name in ["avgpool", "fc"]')})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_late_stage_frozen_by_name_holds_batchnorm_too(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": NAMED_CHILDREN.format(test='name in ["layer4", "fc"]')})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 13)
    assert "its child modules other than `conv1`, `bn1`, `layer1`, `layer2`, `layer3`" in finding.message
