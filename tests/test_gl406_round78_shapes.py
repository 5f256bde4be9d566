"""GL406 shapes of held-out round 78 (``bench/heldout/round78``), in our own words: a class
whose ``__init__`` hands its flag to a method that freezes only ``if feature_extracting:``
(every build passing False freezes nothing), and an ``if``/``elif`` chain on a name the
function sets once (``model_input = 'vgg19'``), which builds only that arm's network."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

CLASSIFIER = """\
import torch.nn as nn
import torchvision


class Classifier(nn.Module):
    def __init__(self, depth=50, pretrained=True, feature_extracting=True):
        super().__init__()
        self.resnet = torchvision.models.resnet18(pretrained) if depth == 18 else torchvision.models.resnet50(pretrained)
        self.setup_feature_extract(feature_extracting)
        self.resnet.fc = nn.Linear(512 if depth == 18 else 2048, 5)

    def setup_feature_extract(self, feature_extracting):
        if feature_extracting:
            for parameter in self.resnet.parameters():
                parameter.requires_grad = False

    def forward(self, x):
        return self.resnet(x)
"""

TRAIN = """\
import torch
from models import Classifier


def train(model, loader, optimizer):
    model.train()
    for x, y in loader:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


model = Classifier({arguments})
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(10):
    train(model, [], optimizer)
"""


def test_a_method_freezing_under_its_flag_freezes_only_where_the_build_passes_it_true(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": CLASSIFIER,
                             "off.py": TRAIN.format(arguments="18, True, False"),
                             "keyword_off.py": TRAIN.format(arguments="depth=18, feature_extracting=False"),
                             "on.py": TRAIN.format(arguments="18, True, True"),
                             "default.py": TRAIN.format(arguments="18")})
    assert lint_in_process(tmp_path / "off.py", "GL406") == []
    assert lint_in_process(tmp_path / "keyword_off.py", "GL406") == []
    for name in ("on.py", "default.py"):
        [finding] = lint_in_process(tmp_path / name, "GL406")
        assert (finding.code, finding.line) == ("GL406", 14)
        assert finding.message.startswith("`model.resnet` has BatchNorm layers and `Classifier` (models.py:9) returns "
                                          "it with its parameters frozen")


CHOSEN = """\
import torch
import torch.nn as nn
from torchvision import models


def main():
    model_input = {chosen!r}
    if model_input == 'vgg16':
        model = models.vgg16(weights="DEFAULT")
    elif model_input == 'vgg19':
        model = models.vgg19(weights="DEFAULT")
    elif model_input == 'resnet152':
        model = models.resnet152(weights="DEFAULT")
    for param in model.parameters():
        param.requires_grad = False
    model.fc = model.classifier = nn.Linear(10, 102)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.001)
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


main()
"""


def test_a_chain_on_a_name_set_once_builds_only_the_arm_it_takes(tmp_path: Path) -> None:
    write_project(tmp_path, {"vgg.py": CHOSEN.format(chosen="vgg19"), "resnet.py": CHOSEN.format(chosen="resnet152")})
    assert lint_in_process(tmp_path / "vgg.py", "GL406") == []
    [finding] = lint_in_process(tmp_path / "resnet.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 15)
    # the arm is known: the message names no condition
    assert finding.message.startswith("`model` has BatchNorm layers and its parameters are frozen here")


PROBE = """\
import torch
import torchvision
from torch import nn


def get_model(name, num_classes):
    if name == "resnet50":
        m = torchvision.models.resnet50(weights="IMAGENET1K_V2")
        m.fc = nn.Linear(m.fc.in_features, num_classes)
        backbone_params = [p for n, p in m.named_parameters() if not n.startswith("fc.")]
    else:
        m = torchvision.models.efficientnet_b0(weights="IMAGENET1K_V1")
        m.classifier[1] = nn.Linear(1280, num_classes)
        backbone_params = [p for n, p in m.named_parameters() if not n.startswith("classifier.1")]
    for p in backbone_params: p.requires_grad = {frozen}
    return m


model = get_model("efficientnet_b0", 5)
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
for epoch in range(5):
    model.train()
    for x, y in []:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
"""


def test_a_loop_over_parameters_a_name_test_selected_freezes_the_backbone(tmp_path: Path) -> None:
    write_project(tmp_path, {"probe.py": PROBE.format(frozen="False"), "tuned.py": PROBE.format(frozen="True")})
    [finding] = lint_in_process(tmp_path / "probe.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 19)
    assert finding.message.startswith("`model` has BatchNorm layers and `get_model` (line 15) returns it with its "
                                      "parameters frozen, but `model.train()` on line 22 puts it back in train mode")
    assert lint_in_process(tmp_path / "tuned.py", "GL406") == []


GEFFNET = """\
import torch
import torch.nn as nn
from geffnet import create_model

model = create_model("efficientnet_b3", pretrained=True)
for param in model.parameters():
    param.requires_grad = False
model.classifier = nn.Linear(model.classifier.in_features, 5)
optimizer = torch.optim.Adam(model.classifier.parameters(), lr=1e-4)
for epoch in range(10):
    model.train()
    for images, labels in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
"""


def test_a_frozen_gen_efficientnet_model_has_batchnorm(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": GEFFNET})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert finding.message.startswith("`model` has BatchNorm layers and its parameters are frozen here")


LOADED = """\
import torch
import torch.nn as nn
import open_clip


class Retriever(nn.Module):
    def __init__(self, name="ViT-B-32"):
        super().__init__()
        self.clip_model, _, self.preprocess = open_clip.create_model_and_transforms(name)
        for param in self.clip_model.parameters():
            param.requires_grad = False
        self.eeg = nn.Sequential(nn.Linear(128, 256), nn.BatchNorm1d(256), nn.Linear(256, 512))

    def forward(self, eeg, images):
        with torch.no_grad():
            image_embedding = self.clip_model.encode_image(images)
        return self.eeg(eeg), image_embedding


def pipeline():
    model = Retriever()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
    model.train()
    for eeg, images in []:
        eeg_embedding, image_embedding = model(eeg, images)
        loss = (eeg_embedding - image_embedding).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


model = pipeline()
"""


def test_a_module_level_name_bound_to_another_functions_result_is_not_the_classs_instance(tmp_path: Path) -> None:
    # the class's own reading of ``self.clip_model`` (a library call it makes) decides; ``model``
    # at the module level holds what ``pipeline`` returns, whose BatchNorm is the trained EEG encoder's
    write_project(tmp_path, {"retrieve.py": LOADED})
    assert lint_in_process(tmp_path / "retrieve.py", "GL406") == []


REFUSED = """\
from torchvision import models as tv


def feature_model(requires_grad):
    model = tv.resnet50(weights="DEFAULT")
    if requires_grad == False:
        for param in model.parameters():
            param.requires_grad = False
    return model
"""

REFUSING_SCRIPT = """\
import torch
import models

model = models.feature_model({arguments})
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
for epoch in range(20):
    model.train()
    for images, labels in []:
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(model(images), labels).backward()
        optimizer.step()
"""


def test_a_factory_call_passing_a_keyword_the_factory_refuses_builds_nothing(tmp_path: Path) -> None:
    write_project(tmp_path, {"models.py": REFUSED,
                             "crashes.py": REFUSING_SCRIPT.format(arguments="pretrained=True, requires_grad=False"),
                             "runs.py": REFUSING_SCRIPT.format(arguments="requires_grad=False")})
    assert lint_in_process(tmp_path / "crashes.py", "GL406") == []  # TypeError before anything is built
    [finding] = lint_in_process(tmp_path / "runs.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 4)


def test_a_decorated_factory_may_take_what_its_definition_does_not_name(tmp_path: Path) -> None:
    # (the wrapper takes ``pretrained`` itself and hands the rest on)
    wrapper = "def accepts_pretrained(f):\n    def wrapper(*args, pretrained=True, **kwargs):\n" \
              "        return f(*args, **kwargs)\n    return wrapper\n\n\n"
    decorated = REFUSED.replace("def feature_model", wrapper + "@accepts_pretrained\ndef feature_model")
    write_project(tmp_path, {"models.py": decorated,
                             "crashes.py": REFUSING_SCRIPT.format(arguments="pretrained=True, requires_grad=False")})
    [finding] = lint_in_process(tmp_path / "crashes.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 4)


OPTIMISED_PART = """\
import torch
import torch.nn as nn
import open_clip
import torchvision


class Retriever(nn.Module):
    def __init__(self, name="ViT-B-32"):
        super().__init__()
        self.clip_model = {other}
        self.eeg = nn.Sequential(nn.Linear(128, 256), nn.BatchNorm1d(256), nn.Linear(256, 512))

    def forward(self, eeg, images):
        return self.eeg(eeg), self.clip_model(images)


def pipeline():
    model = Retriever()
    optimizer = torch.optim.Adam(model.eeg.parameters())
    model.train()
    for eeg, images in []:
        eeg_embedding, image_embedding = model(eeg, images)
        loss = (eeg_embedding - image_embedding.detach()).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


model = pipeline()
"""


def test_an_optimiser_taking_every_part_with_batchnorm_leaves_none_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"vit.py": OPTIMISED_PART.format(other="open_clip.create_model(name)"),
                             "cnn.py": OPTIMISED_PART.format(other="torchvision.models.resnet50()"),
                             "kept.py": OPTIMISED_PART.format(other="torchvision.models.vgg16_bn().features")})
    assert lint_in_process(tmp_path / "vit.py", "GL406") == []
    # a part taken from another model (``.features`` of a VGG with BatchNorm) is left out too
    [kept] = lint_in_process(tmp_path / "kept.py", "GL406")
    assert (kept.code, kept.line) == ("GL406", 19)
    [finding] = lint_in_process(tmp_path / "cnn.py", "GL406")  # the ResNet's BatchNorm is left out
    assert (finding.code, finding.line) == ("GL406", 19)
    assert finding.message.startswith("`model` has BatchNorm layers and only `model.eeg` is optimised here")


SIAMESE = """\
import torch.nn as nn
import torchvision


def load_backbone():
    resnet = torchvision.models.resnet50(weights="DEFAULT")
    return nn.Sequential(*list(resnet.children())[:9]).eval()


class Siamese(nn.Module):
    def __init__(self, backbone, freeze_backbone=False):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(2048, 128)
        if freeze_backbone:
            for param in self.backbone.parameters():
                param.requires_grad = False

    def forward(self, x):
        return self.head(self.backbone(x).flatten(1))
"""

PAIRS = """\
import sys
sys.path.insert(1, "../")
import helpers
import torch

model = helpers.models.Siamese(helpers.models.load_backbone(), freeze_backbone=True)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(100):
    model.train()
    for a, b in []:
        loss = (model(a) - model(b)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""


def test_a_class_of_a_submodule_the_package_init_imports_is_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"helpers/__init__.py": "from . import models\nfrom . import losses\n",
                             "helpers/models.py": SIAMESE, "helpers/losses.py": "",
                             "notebooks/pairs.py": PAIRS})
    [finding] = lint_in_process(tmp_path / "notebooks" / "pairs.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 6)
    assert finding.message.startswith("`model.backbone` has BatchNorm layers and `Siamese` (../helpers/models.py:16) "
                                      "returns it with its parameters frozen")


UNET = """\
import torch
import torch.nn as nn
import torchvision


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        r = torchvision.models.resnet34(weights="DEFAULT")
        self.encoder_stem = nn.Sequential(r.conv1, r.bn1, r.relu)
        self.encoder1 = r.layer1
        self.dec1 = nn.Sequential(nn.Conv2d(64, 64, 3), nn.BatchNorm2d(64))
        self.head = nn.Conv2d(64, 3, 1)

    def forward(self, x):
        return self.head(self.dec1(self.encoder1(self.encoder_stem(x))))


model = UNet()
decoder_parts = [model.dec1, model.head]
optimizer = torch.optim.AdamW([
    {{"params": [p for m in {decoder} for p in m.parameters()], "lr": 1e-3}},
    {encoder}
])
for epoch in range(30):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_parameter_group_comprehension_over_modules_takes_those_modules(tmp_path: Path) -> None:
    encoder = '{"params": list(model.encoder_stem.parameters()) + list(model.encoder1.parameters()), "lr": 1e-4},'
    write_project(tmp_path, {"named.py": UNET.format(decoder="decoder_parts", encoder=encoder),
                             "literal.py": UNET.format(decoder="[model.dec1, model.head]", encoder=encoder),
                             "decoder_only.py": UNET.format(decoder="[model.dec1, model.head]", encoder=""),
                             "named_decoder_only.py": UNET.format(decoder="decoder_parts", encoder=""),
                             "children.py": UNET.format(decoder="[c for _, c in model.named_children()]", encoder="")})
    assert lint_in_process(tmp_path / "named.py", "GL406") == []  # (the list the name is bound to, read)
    assert lint_in_process(tmp_path / "literal.py", "GL406") == []  # every part optimised
    assert lint_in_process(tmp_path / "children.py", "GL406") == []  # every child of the model
    # the ResNet encoder left out, also where the group's list is a name bound to it
    [named] = lint_in_process(tmp_path / "named_decoder_only.py", "GL406")
    assert (named.code, named.line) == ("GL406", 21)
    [finding] = lint_in_process(tmp_path / "decoder_only.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 21)
    assert finding.message.startswith("`model` has BatchNorm layers and only `model.dec1` and `model.head` are "
                                      "optimised here")


INCEPTION = """\
import torch
import torch.nn as nn
import torchvision


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inception = torchvision.models.inception_v3(weights="DEFAULT")
        self.inception.fc = nn.Linear(2048, 1)
        for name, param in self.inception.named_parameters():
            param.requires_grad = False
        for name, param in self.inception.named_parameters():
            if {reopened}:
                param.requires_grad = True

    def forward(self, x):
        return self.inception(x)


model = Net()
optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
for epoch in range(10):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(model(x)[0], y).backward()
        optimizer.step()
"""


def test_parts_reopened_by_tests_joined_with_or_are_named(tmp_path: Path) -> None:
    write_project(tmp_path, {"late.py": INCEPTION.format(reopened='name.startswith("Mixed_7c") or name.startswith("fc") '
                                                                  'or "AuxLogits.fc" in name'),
                             "stem.py": INCEPTION.format(reopened='name.startswith("Conv2d_1a") or "fc" in name')})
    [finding] = lint_in_process(tmp_path / "late.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 12)
    assert ("its parameters are frozen here (`self.inception.AuxLogits.fc`, `self.inception.Mixed_7c`, "
            "`self.inception.fc` trainable again; the rest stays frozen)") in finding.message
    # the stem made trainable again: what stays frozen is not known
    assert lint_in_process(tmp_path / "stem.py", "GL406") == []


LAST_BLOCKS = """\
import torch
import torch.nn as nn
from torchvision.models import efficientnet_v2_s


def get_model(n_unfrozen, out_features):
    model = efficientnet_v2_s(weights="DEFAULT")
    model.classifier[1] = nn.Linear(1280, out_features)
    for param in model.features.parameters():
        param.requires_grad = False
    for param in model.features[-n_unfrozen:].parameters():
        param.requires_grad = True
    return model


model = get_model(3, 4)
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
for epoch in range(15):
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_the_last_blocks_a_variable_counts_made_trainable_again_leave_the_stem_frozen(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": LAST_BLOCKS})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 16)
    assert ("returns it with its parameters frozen (`model.features[-n_unfrozen:]` trainable again; the rest stays "
            "frozen)") in finding.message
