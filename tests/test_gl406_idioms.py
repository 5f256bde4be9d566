"""GL406 on idioms of fine-tuning code, in our own words: some met while closing earlier
rounds' misses (round 60/a's remote-sensing probe: two encoders frozen under flags of their
own are two findings; round 54/b's ``__new__`` factory and its ``Experiment`` class handing the
encoder to a training class), the others written to probe the rule between rounds: partial
freezes through a bound list or length, ``segmentation_models_pytorch`` encoders, Cadene's
``pretrainedmodels`` and ``torch.hub`` networks, freezes written as comprehensions, and a part
of a freshly built network left out of the optimiser."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

PAIR = """\
    import torch.nn as nn
    from torchvision import models


    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.street = models.resnet18(weights=None)
            self.aerial = models.resnet18(weights=None)

        def lock(self, which):
            if which == "street":
                for weight in self.street.parameters():
                    weight.requires_grad = False
            elif which == "aerial":
                for weight in self.aerial.parameters():
                    weight.requires_grad = False
"""

PROBE = """\
import torch
import torch.nn as nn
import pair

FREEZE_STREET = True
FREEZE_AERIAL = True


class Probe(nn.Module):
    def __init__(self):
        super().__init__()
        self.pair = pair.Pair()
{locks}        self.head = nn.Linear(1000, 5)

    def forward(self, x):
        return self.head(self.pair.aerial(x))


def main():
    probe = Probe()
    optimizer = torch.optim.SGD(probe.head.parameters(), lr=0.1)
    for epoch in range(10):
        probe.train()
        for x, y in []:
            loss = nn.functional.cross_entropy(probe(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""

FLAGGED = """\
        if FREEZE_STREET:
            self.pair.lock("street")
        if FREEZE_AERIAL:
            self.pair.lock("aerial")
"""

UNFLAGGED = """\
        self.pair.lock("street")
        self.pair.lock("aerial")
"""


def _lint(tmp_path: Path, locks: str) -> list:
    write_project(tmp_path, {"pair.py": PAIR, "probe.py": PROBE.format(locks=locks)})
    return lint_in_process(tmp_path / "probe.py", "GL406")


def test_parts_frozen_under_flags_of_their_own_are_a_finding_each(tmp_path: Path) -> None:
    findings = _lint(tmp_path, FLAGGED)
    assert [(f.code, f.line) for f in findings] == [("GL406", 14), ("GL406", 16)]
    assert "`probe.pair.street`" in findings[0].message and "aerial" not in findings[0].message
    assert "`probe.pair.aerial`" in findings[1].message


def test_parts_frozen_one_after_the_other_stay_one_finding(tmp_path: Path) -> None:
    findings = _lint(tmp_path, UNFLAGGED)
    assert [(f.code, f.line) for f in findings] == [("GL406", 13)]
    assert "`probe.pair.street` and `probe.pair.aerial`" in findings[0].message


ENCODER = """\
    from torchvision import models


    class Encoder:
        def __new__(cls):
            net = models.{arch}(weights=None)
            for weight in net.layer4.parameters():
                weight.requires_grad = False
            return net
"""

ADAPT = """\
    import torch
    from encoder import Encoder

    source = Encoder().to("cpu")
    optimizer = torch.optim.SGD(source.parameters(), lr=0.1)
    for x, y in []:
        loss = torch.nn.functional.cross_entropy(source(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""


def test_a_class_whose_new_returns_a_frozen_network_is_a_factory(tmp_path: Path) -> None:
    # (round 54/b's domain-adaptation encoder: ``Encoder()`` is the resnet ``__new__`` returns)
    write_project(tmp_path, {"encoder.py": ENCODER.format(arch="resnet18"), "adapt.py": ADAPT})
    findings = lint_in_process(tmp_path / "adapt.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 4)]
    assert "`source.layer4`" in findings[0].message and "`Encoder` (encoder.py:7)" in findings[0].message
    assert "nothing puts it in eval mode" in findings[0].message


def test_a_new_returning_a_network_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"encoder.py": ENCODER.format(arch="vgg16").replace("layer4", "features"),
                             "adapt.py": ADAPT})
    assert lint_in_process(tmp_path / "adapt.py", "GL406") == []


STAGES = """\
    import torch


    class SourceStage:
        def __init__(self, encoder, head, optimizer):
            self.encoder = encoder
            self.head = head
            self.optimizer = optimizer

        def fit(self, loader):
            for x, y in loader:
                self.optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(self.head(self.encoder(x)), y)
                loss.backward()
                self.optimizer.step()


    class Tester:
        def __init__(self, encoder, head):
            self.encoder = encoder
            self.head = head

        def score(self, loader):
            return sum(int((self.head(self.encoder(x)).argmax(1) == y).sum()) for x, y in loader)
"""

EXPERIMENT = """\
    from stages import SourceStage, Tester


    class Experiment:
        def __init__(self, encoder, head, optimizer, loader):
            self.encoder = encoder
            self.head = head
            self.optimizer = optimizer
            self.loader = loader

        def run(self):
            stage = SourceStage(self.encoder, self.head, self.optimizer)
            stage.fit(self.loader)
            {after}
            return Tester(self.encoder, self.head).score(self.loader)
"""

RUN = """\
    import torch
    from encoder import Encoder
    from experiment import Experiment

    source = Encoder()
    head = torch.nn.Linear(1000, 31)
    optimizer = torch.optim.SGD(list(source.parameters()) + list(head.parameters()), lr=0.01)
    Experiment(source, head, optimizer, []).run()
"""


def _experiment(tmp_path: Path, after: str = "pass") -> list:
    write_project(tmp_path, {"encoder.py": ENCODER.format(arch="resnet18"), "stages.py": STAGES,
                             "experiment.py": EXPERIMENT.format(after=after), "run.py": RUN})
    return lint_in_process(tmp_path / "run.py", "GL406")


def test_a_class_handing_what_it_keeps_to_a_training_class_runs_it(tmp_path: Path) -> None:
    # (round 54/b's domain adaptation: Experiment.run hands the encoder to SourceTrainer and NetworkTester)
    findings = _experiment(tmp_path)
    assert [(f.code, f.line) for f in findings] == [("GL406", 5)]
    assert "handing it on line 8 to `Experiment` (experiment.py:12)" in findings[0].message


def test_a_class_putting_what_it_keeps_in_eval_mode_is_quiet(tmp_path: Path) -> None:
    assert _experiment(tmp_path, after="self.encoder.eval()") == []


PARTIAL = """\
    import torch
    from torchvision import models

    model = models.{arch}(weights="DEFAULT")
    {freeze}
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.01)
    for epoch in range(10):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""

# (the partial freezes common in fine-tuning scripts, through a list bound first or a length)
CHILDREN_LISTED = """children = list(model.children())
    for child in children[:-3]:
        for p in child.parameters():
            p.requires_grad = False"""
PARAMETERS_LISTED = """params = list(model.parameters())
    for p in params[:-20]:
        p.requires_grad = False"""
COUNTED_TO_LENGTH = """n = len(list(model.children()))
    for i, child in enumerate(model.children()):
        if i < n - 2:
            for p in child.parameters():
                p.requires_grad = False"""
ENUMERATED_LIST = """children = list(model.children())
    for i, child in enumerate(children):
        if i < len(children) - 2:
            child.requires_grad_(False)"""


def _partial(tmp_path: Path, freeze: str, arch: str = "resnet50") -> list:
    write_project(tmp_path, {"finetune.py": PARTIAL.format(arch=arch, freeze=freeze)})
    return lint_in_process(tmp_path / "finetune.py", "GL406")


@pytest.mark.parametrize(("freeze", "line", "part"), [
    (CHILDREN_LISTED, 8, "all but its last 3 child modules"),
    (PARAMETERS_LISTED, 7, "all but its last 20 parameter tensors"),
    (COUNTED_TO_LENGTH, 9, "all but its last 2 child modules"),
    (ENUMERATED_LIST, 8, "all but its last 2 child modules"),
])
def test_partial_freezes_through_a_bound_list_or_length(tmp_path: Path, freeze: str, line: int, part: str) -> None:
    findings = _partial(tmp_path, freeze)
    assert [(f.code, f.line) for f in findings] == [("GL406", line)]
    assert f"`model` has BatchNorm layers and {part} are frozen here" in findings[0].message


def test_a_list_bound_to_something_else_is_not_read_as_the_model(tmp_path: Path) -> None:
    freeze = CHILDREN_LISTED.replace("children = list(model.children())", "children = list(heads)")
    assert _partial(tmp_path, "heads = [torch.nn.Linear(2, 2)]\n    " + freeze) == []


def test_partial_freezes_of_a_network_without_batchnorm_are_quiet(tmp_path: Path) -> None:
    assert _partial(tmp_path, CHILDREN_LISTED, arch="vgg16") == []


NAMED_ENUMERATED = """for i, (name, p) in enumerate(model.named_parameters()):
        if i < 45:
            p.requires_grad = False"""


def test_a_prefix_of_named_parameters_counted_by_enumerate(tmp_path: Path) -> None:
    findings = _partial(tmp_path, NAMED_ENUMERATED, arch="resnet18")
    assert [(f.code, f.line) for f in findings] == [("GL406", 7)]
    assert "its first 45 parameter tensors are frozen here" in findings[0].message


SEGMENTATION = """\
    import torch
    import segmentation_models_pytorch as smp

    model = {build}
    {freeze}
    optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
    for epoch in range(20):
        model.train()
        for image, mask in []:
            optimizer.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(model(image), mask).backward()
            optimizer.step()
"""


@pytest.mark.parametrize("build", [
    'smp.Unet(encoder_name="resnet34", encoder_weights="imagenet", classes=1)',
    'smp.Unet(classes=1)',  # (resnet34, the default encoder)
    'smp.DeepLabV3Plus("efficientnet-b3", classes=1)',
    'smp.create_model("unet", "timm-regnetx_002", classes=1)',
])
def test_a_frozen_segmentation_models_encoder_with_batchnorm(tmp_path: Path, build: str) -> None:
    write_project(tmp_path, {"seg.py": SEGMENTATION.format(build=build, freeze="model.encoder.requires_grad_(False)")})
    findings = lint_in_process(tmp_path / "seg.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 5)]
    assert "`model.encoder` has BatchNorm layers" in findings[0].message


@pytest.mark.parametrize(("build", "freeze"), [
    ('smp.Unet(encoder_name="mit_b0", classes=1)', "model.encoder.requires_grad_(False)"),
    ('smp.Unet(encoder_name="vgg16", classes=1)', "model.encoder.requires_grad_(False)"),
    ('smp.Unet(encoder_name="resnet34", classes=1)', "model.segmentation_head.requires_grad_(False)"),
])
def test_segmentation_models_parts_without_batchnorm_are_quiet(tmp_path: Path, build: str, freeze: str) -> None:
    write_project(tmp_path, {"seg.py": SEGMENTATION.format(build=build, freeze=freeze)})
    assert lint_in_process(tmp_path / "seg.py", "GL406") == []


LIBRARY = """\
    import torch
    import pretrainedmodels

    model = {build}
    for p in model.parameters():
        p.requires_grad = False
    model.fc = torch.nn.Linear(2048, 5)
    optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)
    for epoch in range(10):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("build", "found"), [
    ('pretrainedmodels.se_resnext50_32x4d(num_classes=1000, pretrained="imagenet")', True),
    ('pretrainedmodels.__dict__["inceptionresnetv2"](num_classes=1000, pretrained="imagenet")', True),
    ('pretrainedmodels.__dict__["vgg16"](num_classes=1000, pretrained="imagenet")', False),
    ('torch.hub.load("facebookresearch/dino:main", "dino_resnet50")', True),
    ('torch.hub.load("facebookresearch/dino:main", "dino_vitb16")', False),
])
def test_networks_of_other_model_libraries(tmp_path: Path, build: str, found: bool) -> None:
    # (Cadene's pretrainedmodels, common in competition code, and torch.hub repositories other than torchvision's)
    write_project(tmp_path, {"train.py": LIBRARY.format(build=build)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == ([("GL406", 6)] if found else [])


@pytest.mark.parametrize(("freeze", "found"), [
    ("[p.requires_grad_(False) for p in model.parameters()]", True),
    ("list(p.requires_grad_(False) for n, p in model.named_parameters())", False),  # (a call around it: not read)
    ("[p.requires_grad_(False) for n, p in model.named_parameters()]", True),
    ('[p.requires_grad_(False) for n, p in model.named_parameters() if "layer4" not in n]', False),
])
def test_a_freeze_written_as_a_comprehension(tmp_path: Path, freeze: str, found: bool) -> None:
    source = LIBRARY.format(build='pretrainedmodels.resnet50(num_classes=1000, pretrained="imagenet")').replace(
        "    for p in model.parameters():\n        p.requires_grad = False", "    " + freeze)
    write_project(tmp_path, {"train.py": source})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    # (not read as a freeze: the head-only optimiser on line 7 still leaves the rest frozen)
    assert [(f.code, f.line) for f in findings] == [("GL406", 5 if found else 7)]


PART_ONLY_RUN = """\
    import torch
    from torchvision import models

    backbone = models.efficientnet_b0(weights="DEFAULT").features
    head = torch.nn.Linear(1280, 10)
    optimizer = torch.optim.Adam(head.parameters())
    {setup}
    for epoch in range(10):
        for x, y in []:
            feats = backbone(x).mean((2, 3)).detach()
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(head(feats), y).backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("setup", "expected"), [("pass", [("GL406", 10)]), ("backbone.eval()", [])])
def test_a_part_of_a_network_built_here_and_left_out_of_the_optimiser(tmp_path: Path, setup: str, expected: list) -> None:
    write_project(tmp_path, {"train.py": PART_ONLY_RUN.format(setup=setup)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("no optimiser of the file takes its parameters" in f.message for f in findings)


SLICED_BY_DEFAULT = """\
    import torch
    from torchvision import models


    def build(n_frozen_children={count}):
        net = models.resnet50(weights="DEFAULT")
        for child in list(net.children())[:n_frozen_children]:
            for p in child.parameters():
                p.requires_grad = False
        return net


    model = build()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    for epoch in range(10):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


@pytest.mark.parametrize(("count", "expected"), [(6, [("GL406", 13)]), (1, [])])
def test_a_children_slice_bounded_by_a_parameters_default(tmp_path: Path, count: int, expected: list) -> None:
    # (synthetic round 65s/a: ``list(net.children())[:n_frozen_children]``; one child, the stem conv, holds no BatchNorm)
    write_project(tmp_path, {"train.py": SLICED_BY_DEFAULT.format(count=count)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("its first 6 child modules frozen" in f.message for f in findings)
