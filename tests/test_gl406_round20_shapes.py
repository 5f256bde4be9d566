"""GL406 on a shape held-out round 20 (/work/heldout52) found it reading wrongly, in our own
words: ``model = layer_modification(model)``, a helper of another module that freezes the
model it is handed, gives it a new head with ``BatchNorm1d`` and returns it. The BatchNorm
it builds is in the new, trainable head; whether the frozen trunk has any is the model's."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

HELPER = """\
    from torch import nn


    def layer_modification(model):
        for param in model.trunk.parameters():
            param.requires_grad = False
        model.head = nn.Sequential(nn.BatchNorm1d(768), nn.Linear(768, 10))
        return model
"""

TRAIN = """\
    import timm
    import torch
    from torch import nn

    from layers import layer_modification


    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.trunk = timm.create_model("{name}", num_classes=0)
            self.head = nn.Identity()

        def forward(self, x):
            return self.head(self.trunk(x))


    class Trainer:
        def __init__(self, model, optimizer):
            self.model = model
            self.optimizer = optimizer

        def train(self, loader):
            self.model.train()
            for x, y in loader:
                self.optimizer.zero_grad()
                nn.functional.cross_entropy(self.model(x), y).backward()
                self.optimizer.step()


    model = Wrapper()
    model = layer_modification(model)
    trainer = Trainer(model, torch.optim.Adam(p for p in model.parameters() if p.requires_grad))
    trainer.train([])
"""


def test_a_helper_adding_a_batchnorm_head_to_a_layernorm_trunk_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"layers.py": HELPER, "train.py": TRAIN.format(name="vit_base_patch16_224")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_the_same_helper_over_a_resnet_trunk_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"layers.py": HELPER, "train.py": TRAIN.format(name="resnet50")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 32)
    assert finding.message.startswith("`model.trunk` has BatchNorm layers")


def test_the_model_a_helper_hands_back_is_read_for_batchnorm_not_the_helper(tmp_path: Path) -> None:
    from gradlint.source.norm_links import file_norms
    from gradlint.source.unit import SourceUnit

    for name, expected in (("vit_base_patch16_224", False), ("resnet50", True)):
        write_project(tmp_path, {"layers.py": HELPER, "train.py": TRAIN.format(name=name)})
        path = tmp_path / "train.py"
        unit = SourceUnit.from_path(path, str(path))
        unit.parse()
        knowledge = file_norms(unit).knowledge
        assert knowledge is not None
        assert knowledge.has_batchnorm("model.trunk") is expected, name


OPTIONS = """\
    import argparse

    import torch
    import torchvision
    from torch import nn

    parser = argparse.ArgumentParser()
    parser.add_argument("--fine-tune", dest="fine_tune", action="{action}")
    args = vars(parser.parse_args())


    def build_model(fine_tune=True):
        model = torchvision.models.mobilenet_v3_large(weights=None)
        if not fine_tune:
            for params in model.parameters():
                params.requires_grad = False
        model.classifier[3] = nn.Linear(1280, 43)
        return model


    model = build_model(fine_tune=args["fine_tune"])
    optimizer = torch.optim.Adam(p for p in model.parameters() if p.requires_grad)
    for epoch in range(10):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
"""


def test_an_option_read_from_the_dict_of_parsed_arguments(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": OPTIONS.format(action="store_true")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 21)
    assert "`build_model` (line 15) returns it with its parameters frozen" in finding.message
    write_project(tmp_path, {"train.py": OPTIONS.format(action="store_false")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_factory_reusing_its_parameter_name_builds_its_own_model(tmp_path: Path) -> None:
    from gradlint.source.norm_links import file_norms
    from gradlint.source.unit import SourceUnit

    zoo = """\
    import torchvision


    def get_pretrained_model(model, n_classes):
        if model == "resnet50":
            model = torchvision.models.resnet50(weights=None)
        return model
"""
    write_project(tmp_path, {"zoo.py": zoo, "train.py": "    from zoo import get_pretrained_model\n\n"
                                                         "    net = get_pretrained_model('resnet50', 10)\n"})
    path = tmp_path / "train.py"
    unit = SourceUnit.from_path(path, str(path))
    unit.parse()
    knowledge = file_norms(unit).knowledge
    assert knowledge is not None and knowledge.has_batchnorm("net") is True


AUDIO_MODELS = """\
    import torchvision
    from torch import nn


    class DenseNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = torchvision.models.densenet201(weights=None)
            self.model.classifier = nn.Linear(1920, 10)

        def freeze_layers(self, keep_unfrozen=["", "classifier"]):
            for name, layer in self.model.named_modules():
                if not (name in keep_unfrozen):
                    layer.requires_grad_(False)

        def forward(self, x):
            return self.model(x)
{extra}"""

AUDIO_TRAIN = """\
    import torch
    from torch import nn

    from models import DenseNet

    model = DenseNet()
    model.freeze_layers()
    optimizer = torch.optim.Adam(model.parameters())
    for epoch in range(100):
        for audio, labels in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(audio), labels).backward()
            optimizer.step()
"""


def test_modules_frozen_by_a_default_list_of_names_and_never_put_in_eval(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": AUDIO_MODELS.format(extra=""), "train.py": AUDIO_TRAIN})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert finding.message.startswith("`model.model` has BatchNorm layers and `DenseNet.freeze_layers` (models.py:12)")
    assert "running it on line 12 in the training loop" in finding.message


def test_a_class_that_switches_its_own_mode_is_quiet(tmp_path: Path) -> None:
    extra = """
        def train(self, mode=True):
            super().train(mode)
            self.model.features.eval()
            return self
"""
    write_project(tmp_path, {"models.py": AUDIO_MODELS.format(extra=extra), "train.py": AUDIO_TRAIN})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
