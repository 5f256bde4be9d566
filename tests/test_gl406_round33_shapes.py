"""GL406 shapes from held-out round 33 (real code, ``bench/heldout/round33``): linear
probes of self-supervised encoders.

- A project factory of another module (``resnet50`` -> ``_resnet`` -> ``ResNet(...)``)
  builds the backbone; every parameter but the head is frozen and the script never sets a
  mode, so the model trains in the train mode it was built in.
- A frozen encoder handed to a classifier class that keeps only a part of it
  (``self.base = encoder.base``); a helper then calls ``model.train()`` on the classifier.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

RESNET_MODULE = """\
import torch.nn as nn


class ResNet(nn.Module):
    def __init__(self, widths, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3), nn.BatchNorm2d(widths[0]), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[0], num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.stem(x)).flatten(1))


def _build(widths, pretrained, **kwargs):
    net = ResNet(widths, **kwargs)
    if pretrained:
        pass
    return net


def tiny_resnet(pretrained=False, **kwargs):
    return _build([16], pretrained, **kwargs)
"""

PROBE = """\
import torch
import torch.nn as nn
from models.resnet import tiny_resnet


def main(loader, epochs):
    model = tiny_resnet(num_classes=5)
    for name, param in model.named_parameters():
        if name not in ["fc.weight", "fc.bias"]:
            param.requires_grad = False
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
"""


def test_a_project_factory_model_frozen_and_never_put_in_eval(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/__init__.py": "", "models/resnet.py": RESNET_MODULE, "probe.py": PROBE})
    [finding] = lint_in_process(tmp_path / "probe.py", "GL406")
    assert finding.code == "GL406" and finding.line == 10
    assert "`model` has BatchNorm layers" in finding.message
    assert "nothing puts it in eval mode" in finding.message and "running it on line 16" in finding.message


@pytest.mark.parametrize("change", [
    # the factory's module switches a mode somewhere: the model may come back in eval mode
    ("        return self.fc(", "        self.stem.eval()\n        return self.fc("),
    # the factory returns a model of elsewhere, which is not followed
    ("    return _build([16], pretrained, **kwargs)", "    return make_elsewhere([16])"),
])
def test_a_factory_that_may_set_the_mode_is_not_read_as_quiet(tmp_path: Path, change: tuple[str, str]) -> None:
    module = RESNET_MODULE.replace(*change)
    assert module != RESNET_MODULE
    write_project(tmp_path, {"models/__init__.py": "", "models/resnet.py": module, "probe.py": PROBE})
    assert lint_in_process(tmp_path / "probe.py", "GL406") == []


def test_the_probe_that_puts_the_model_in_eval_is_not_reported(tmp_path: Path) -> None:
    script = PROBE.replace("    for epoch in range(epochs):\n", "    model.eval()\n    for epoch in range(epochs):\n")
    write_project(tmp_path, {"models/__init__.py": "", "models/resnet.py": RESNET_MODULE, "probe.py": script})
    assert lint_in_process(tmp_path / "probe.py", "GL406") == []


MODELS = """\
import torch
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.base = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.projection = nn.Sequential(nn.Linear(8, 4), nn.BatchNorm1d(4))

    def forward(self, x):
        return self.projection(torch.flatten(self.base(x), 1))


class Classifier(nn.Module):
    def __init__(self, old_net):
        super().__init__()
        self.base = old_net.base
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.base(x), 1))
"""

LINEAR_EVAL = """\
import torch
import torch.nn as nn
from models import Encoder, Classifier


def train(model, loader, optimizer, criterion):
    model.train()
    for data, target in loader:
        optimizer.zero_grad()
        criterion(model(data), target).backward()
        optimizer.step()


def main(loader):
    encoder = Encoder()
    for param in {frozen}.parameters():
        param.requires_grad = False
    classifier = Classifier(encoder)
    optimizer = torch.optim.Adam(classifier.fc.parameters())
    train(classifier, loader, optimizer, nn.CrossEntropyLoss())
"""


def test_a_classifier_keeping_a_part_of_a_frozen_encoder(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": MODELS, "linear_eval.py": LINEAR_EVAL.format(frozen="encoder")})
    [finding] = lint_in_process(tmp_path / "linear_eval.py", "GL406")
    assert finding.code == "GL406" and finding.line == 17
    assert "`classifier.base` has BatchNorm layers" in finding.message
    assert "`model.train()` on line 7" in finding.message


def test_a_frozen_part_the_classifier_does_not_keep_is_not_reported(tmp_path: Path) -> None:
    # only the projection head is frozen; the classifier keeps the (trainable) base
    write_project(tmp_path, {"models.py": MODELS, "linear_eval.py": LINEAR_EVAL.format(frozen="encoder.projection")})
    assert lint_in_process(tmp_path / "linear_eval.py", "GL406") == []


# round 33/c (and round 32/a's look-alike): the arms of a model choice that fail on the
# line reading the head, before any training, are not configurations that train
CHOICE = """\
import torch
import torch.nn as nn
from torchvision import models


def freeze(model):
    for param in model.parameters():
        param.requires_grad = False


def get_model(arch):
    if arch == "{bn_arch}":
        return models.{bn_arch}(weights=None)
    return models.vgg11(weights=None)


def fit(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.nll_loss(model(x), y).backward()
        optimizer.step()


def train_and_save(arch, loader):
    model = get_model(arch)
    freeze(model)
    {head}
    optimizer = torch.optim.Adam(model.classifier.parameters())
    fit(model, loader, optimizer)
"""

_SEQUENTIAL_HEAD = "model.classifier = nn.Sequential(nn.Linear(model.classifier[0].in_features, 10), nn.LogSoftmax(1))"


@pytest.mark.parametrize(("bn_arch", "head"), [
    ("densenet121", _SEQUENTIAL_HEAD),  # DenseNet's classifier is one Linear: [0] raises
    ("densenet121", "model.classifier[6] = nn.Linear(4096, 10)"),
    ("resnet50", _SEQUENTIAL_HEAD),  # a ResNet has no classifier at all
])
def test_a_batchnorm_arm_failing_on_the_head_read_is_not_reported(tmp_path: Path, bn_arch: str, head: str) -> None:
    write_project(tmp_path, {"train.py": CHOICE.format(bn_arch=bn_arch, head=head)})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


@pytest.mark.parametrize(("bn_arch", "head"), [
    ("vgg16_bn", _SEQUENTIAL_HEAD),  # a Sequential classifier: the arm trains its frozen BatchNorm
    ("densenet121", "model.classifier = nn.Linear(model.classifier.in_features, 10)"),  # DenseNet's own head read
])
def test_a_batchnorm_arm_whose_head_fits_is_reported(tmp_path: Path, bn_arch: str, head: str) -> None:
    write_project(tmp_path, {"train.py": CHOICE.format(bn_arch=bn_arch, head=head)})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.code == "GL406" and finding.line == 27
    assert "`model` has BatchNorm layers and `freeze` (line 7) freezes its parameters here" in finding.message


NETWORK = """\
import torch.nn as nn
from torchvision import models


def setup_network(structure="vgg16"):
    if structure == "vgg16":
        model = models.vgg16(weights=None)
    elif structure == "densenet121":
        model = models.densenet121(weights=None)
    for param in model.parameters():
        param.requires_grad = False
    model.classifier = nn.Sequential(nn.Linear(model.classifier[0].in_features, 102), nn.LogSoftmax(dim=1))
    model = model.to("cpu")
    return model, nn.NLLLoss()
"""

NETWORK_SCRIPT = """\
import torch
import network


def main(loader, arch):
    model, criterion = network.setup_network(arch)
    optimizer = torch.optim.Adam(model.classifier.parameters())
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
"""


def test_an_imported_builder_whose_batchnorm_arm_fails_on_the_head_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"network.py": NETWORK, "main.py": NETWORK_SCRIPT})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []
    assert lint_in_process(tmp_path / "network.py", "GL406") == []
    # the DenseNet arm reading its own head instead trains its frozen BatchNorm
    fitting = NETWORK.replace("model.classifier[0].in_features", "model.classifier.in_features").replace(
        'if structure == "vgg16"', 'if structure == "vgg16_unused"')
    write_project(tmp_path, {"network.py": fitting.replace("models.vgg16(", "models.densenet161("), "main.py": NETWORK_SCRIPT})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert finding.code == "GL406" and "`model` has BatchNorm layers" in finding.message


# round 33/c: a loader that freezes the model it rebuilds from a checkpoint, for prediction only
LOADER = """\
import torch
import torch.nn as nn
from torchvision import models


def fit(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def load_checkpoint(path):
    model = models.resnet18(weights=None)
    for param in model.parameters():
        param.requires_grad = False
    model.load_state_dict(torch.load(path))
    return model


def predict(image, model):
    model.eval()
    with torch.no_grad():
        scores = model(image)
    model.train()
    return scores.topk(5)


def make_prediction(image, path):
    model = load_checkpoint(path)
    return predict(image, model)
"""


def test_a_frozen_model_loaded_only_for_prediction_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"predict.py": LOADER})
    assert lint_in_process(tmp_path / "predict.py", "GL406") == []


def test_the_loaded_frozen_model_handed_to_training_is_reported(tmp_path: Path) -> None:
    script = LOADER + "\n\ndef fine_tune(path, loader):\n    model = load_checkpoint(path)\n" \
                      "    fit(model, loader, torch.optim.SGD(model.fc.parameters(), lr=0.1))\n"
    write_project(tmp_path, {"predict.py": script})
    findings = lint_in_process(tmp_path / "predict.py", "GL406")
    assert [f.code for f in findings] == ["GL406"] and "`model` has BatchNorm layers" in findings[0].message


def test_a_frozen_model_returned_in_a_dict_for_training_is_still_reported(tmp_path: Path) -> None:
    # (round 20/b's thanatlap, kept by the regression: the model leaves the function that builds it)
    script = LOADER + ("\n\ndef prepare(path):\n    model = load_checkpoint(path)\n    return {\"model\": model}\n\n\n"
                       "def main(path, loader):\n    fit(optimizer=torch.optim.SGD([torch.zeros(1)], lr=0.1), loader=loader,"
                       " **prepare(path))\n")
    write_project(tmp_path, {"predict.py": script})
    findings = lint_in_process(tmp_path / "predict.py", "GL406")
    assert [f.code for f in findings] == ["GL406"] and "`model` has BatchNorm layers" in findings[0].message
