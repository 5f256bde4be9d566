"""GL406 shapes of held-out round 68 (``bench/heldout/round68``), in our own words: a CNN run
under ``torch.no_grad()`` in a method ``forward`` calls, a frozen part kept by an annotated
assignment, a freeze flag kept by ``__init__`` and read in ``forward``, and a head-only run
followed by a fine-tuning run of the same training function (not a finding), a Streamlit
checkbox's starting state, and (round 69) a private freezing method nothing calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project


RETRIEVAL_MODEL = """\
    import torch
    import torch.nn as nn
    import torchvision.models as models


    class Retrieval(nn.Module):
        def __init__(self, dim):
            super().__init__()
            resnet = models.resnet50(weights="DEFAULT")
            self.cnn = nn.Sequential(*list(resnet.children())[:-1])
            self.gru = nn.GRU(300, dim)
            self.proj = nn.Linear(2048, dim)

        def image_branch(self, img):
            {image_branch}
            return self.proj(feats.flatten(1))

        def text_branch(self, cap):
            _, hidden = self.gru(cap)
            return hidden[-1]

        def forward(self, x):
            img, cap = x
            return torch.cat((self.image_branch(img), self.text_branch(cap)), dim=1)
"""

RETRIEVAL_TRAIN = """\
    import torch
    from model import Retrieval


    def main(loader, criterion):
        model = Retrieval(512)
        optimizer = torch.optim.Adam(model.parameters())
        for epoch in range(20):
            for x, target in loader:
                optimizer.zero_grad()
                loss = criterion(model(x), target)
                loss.backward()
                optimizer.step()
            model.eval()
            model.train()
"""


@pytest.mark.parametrize(("image_branch", "expected"), [
    ("with torch.no_grad():\n                feats = self.cnn(img)", [("GL406", 6)]),
    ("feats = self.cnn(img)", []),
])
def test_a_cnn_run_under_no_grad_in_a_method_forward_calls(tmp_path: Path, image_branch: str, expected: list) -> None:
    """Round 68/b's image-caption retrieval model: ``forward`` calls ``self.image_branch``,
    which runs the ResNet trunk under ``torch.no_grad()``; no gradient ever reaches it, so it
    is frozen although the optimiser holds its parameters, and ``model.train()`` after each
    evaluation keeps its BatchNorm in train mode."""
    write_project(tmp_path, {"model.py": RETRIEVAL_MODEL.format(image_branch=image_branch),
                             "train.py": RETRIEVAL_TRAIN})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert "`model.cnn`" in findings[0].message and "torch.no_grad()" in findings[0].message


COLOURING_MODEL = """\
    from typing import Any

    import torch
    from timm import create_model
    from torch import nn


    class Colouring(nn.Module):
        def __init__(self, extractor: Any = None) -> None:
            super().__init__()
            self.encode = nn.Conv2d(1, 64, 3, padding=1)
            if extractor is None:
                self.extractor{annotation} = create_model("{name}", pretrained=True)
            else:
                self.extractor = extractor
            self.extractor.requires_grad_(False)
            self.decode = nn.Conv2d(64 + 1000, 2, 3, padding=1)

        def forward(self, x):
            feats = self.extractor(x.repeat(1, 3, 1, 1))
            mid = self.encode(x)
            return self.decode(torch.cat((mid, feats[:, :, None, None].expand(-1, -1, *mid.shape[2:])), 1))
"""

COLOURING_TRAIN = """\
    import torch
    from torch import nn
    from network import Colouring


    def main(loader, epochs=10):
        model = Colouring()
        optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
        for epoch in range(epochs):
            for grey, colour in loader:
                optimizer.zero_grad()
                loss = nn.functional.mse_loss(model(grey), colour)
                loss.backward()
                optimizer.step()
"""


@pytest.mark.parametrize(("annotation", "name", "expected"), [
    (": nn.Module", "inception_resnet_v2", [("GL406", 7)]),
    ("", "inception_resnet_v2", [("GL406", 7)]),
    (": nn.Module", "vit_base_patch16_224", []),
])
def test_a_frozen_part_kept_by_an_annotated_assignment(tmp_path: Path, annotation: str, name: str,
                                                       expected: list) -> None:
    """Round 68/b's colourisation network keeps its timm feature extractor with a type
    annotation (``self.extractor: InceptionResnetV2 = create_model(...)``): the annotated
    assignment binds it as a plain one does (a ViT has LayerNorm only: nothing drifts)."""
    write_project(tmp_path, {"network.py": COLOURING_MODEL.format(annotation=annotation, name=name),
                             "train.py": COLOURING_TRAIN})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert "`model.extractor`" in findings[0].message


CAPTION_MODEL = """\
    import torch.nn as nn
    import torchvision.models as models


    class Encoder(nn.Module):
        def __init__(self, embed_size, train_cnn={default}):
            super().__init__()
            self.train_cnn = train_cnn
            self.resnet = models.resnet50(weights="DEFAULT")
            self.resnet.fc = nn.Linear(self.resnet.fc.in_features, embed_size)

        def forward(self, images):
            for name, param in self.resnet.named_parameters():
                if "fc.weight" in name or "fc.bias" in name:
                    param.requires_grad = True
                else:
                    param.requires_grad = self.train_cnn
            return self.resnet(images)


    class Captioner(nn.Module):
        def __init__(self, embed_size, vocab_size):
            super().__init__()
            self.encoder = Encoder(embed_size{passed})
            self.decoder = nn.Linear(embed_size, vocab_size)

        def forward(self, images):
            return self.decoder(self.encoder(images))
"""

CAPTION_TRAIN = """\
    import torch
    from torch import nn
    from model import Captioner


    def train(loader):
        model = Captioner(256, 5000)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
        model.train()
        for epoch in range(30):
            for images, targets in loader:
                loss = nn.functional.cross_entropy(model(images), targets)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
"""


@pytest.mark.parametrize(("default", "passed", "expected"), [
    ("False", "", [("GL406", 7)]),
    ("True", "", []),
    ("False", ", train_cnn=True", []),
    ("True", ", train_cnn=False", [("GL406", 7)]),
])
def test_a_freeze_flag_kept_by_init_and_read_in_forward(tmp_path: Path, default: str, passed: str,
                                                        expected: list) -> None:
    """Round 68/c's captioning encoder sets ``param.requires_grad = self.train_flag`` in
    ``forward`` for every parameter but the head's; ``__init__`` keeps the flag from its
    parameter, False by default and left out where the holder builds it: the trunk is frozen."""
    write_project(tmp_path, {"model.py": CAPTION_MODEL.format(default=default, passed=passed),
                             "train.py": CAPTION_TRAIN})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    if expected:
        assert "`model.encoder.resnet`" in findings[0].message


TWO_PHASES = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    def fit(loader, epochs, is_finetuning=False, weights=None):
        model = models.densenet121(weights="DEFAULT")
        model.classifier = nn.Linear(model.classifier.in_features, 101)
        if weights is not None:
            model.load_state_dict(torch.load(weights))
        if is_finetuning:
            for param in model.parameters():
                param.requires_grad = True
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
        else:
            for param in model.parameters():
                param.requires_grad = False
            for param in model.classifier.parameters():
                param.requires_grad = True
            optimizer = torch.optim.Adam(model.classifier.parameters(), lr=1e-3)
        for epoch in range(epochs):
            model.train()
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        torch.save(model.state_dict(), "head.pth")
        return model


    def run(loader):
{runs}"""


@pytest.mark.parametrize(("runs", "expected"), [
    ("fit(loader, 250, is_finetuning=False)\nfit(loader, 150, is_finetuning=True, weights=\"head.pth\")", []),
    ("fit(loader, 250, is_finetuning=False)", [("GL406", 17)]),
    ("fit(loader, 150, is_finetuning=True, weights=\"head.pth\")\nfit(loader, 250)", [("GL406", 17)]),
])
def test_a_head_only_run_before_a_fine_tuning_run_of_the_same_function(tmp_path: Path, runs: str,
                                                                       expected: list) -> None:
    """Round 68/a's food classifier (a look-alike the first run reported): one function
    trains the head on a frozen DenseNet (``is_finetuning=False``), then the whole network from
    that checkpoint (``is_finetuning=True``); the held-out rulings read the first run as a
    warm-up of a separate fine-tuning run. Run alone, or last, it is a frozen backbone."""
    write_project(tmp_path, {"train.py": TWO_PHASES.format(runs="".join(f"        {run}\n" for run in runs.splitlines()))})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


STREAMLIT_APP = """\
    import streamlit as st
    import torch
    import torch.nn as nn
    from torchvision import models


    def get_model(num_classes, fine_tune=False):
        model = models.resnet50(weights="DEFAULT")
        if not fine_tune:
            for param in model.parameters():
                param.requires_grad = False
        model.fc = nn.Linear(model.fc.in_features, num_classes)
        return model


    def train_model(loader, num_classes, fine_tune, epochs):
        model = get_model(num_classes, fine_tune=fine_tune)
        optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
        for epoch in range(epochs):
            model.train()
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return model


    def main(loader):
        fine_tune = st.sidebar.checkbox("Fine-tune the whole network"{value})
        epochs = st.sidebar.slider("Epochs", 1, 100, 20)
        if st.button("Train"):
            train_model(loader, 5, fine_tune, epochs)
"""


@pytest.mark.parametrize(("value", "expected"), [
    ("", [("GL406", 17)]),
    (", value=False", [("GL406", 17)]),
    (", value=True", []),
])
def test_a_freeze_flag_from_a_streamlit_checkbox_passed_through_two_functions(tmp_path: Path, value: str,
                                                                              expected: list) -> None:
    """Round 68/a's rock classifier app: ``get_model(..., fine_tune=fine_tune)`` freezes the
    backbone unless the flag is set; ``train_model`` passes on its own parameter, which the one
    call of the file gives from an unticked ``st.sidebar.checkbox`` (the run a user starts
    without ticking it, as an option's default is read)."""
    write_project(tmp_path, {"app.py": STREAMLIT_APP.format(value=value)})
    findings = lint_in_process(tmp_path / "app.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected


PRIVATE_FREEZE = """\
    import torch
    from torchvision.models import resnet34


    class Classifier:
        def __init__(self, n_classes=2):
            self.model = resnet34(weights="DEFAULT")
            {call}self.__freeze_all_layers()
            self.model.fc = torch.nn.Linear(512, n_classes)

        def __freeze_all_layers(self):
            for param in self.model.parameters():
                param.requires_grad = False

        def train(self, loader, epochs=10):
            optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, self.model.parameters()), lr=0.001)
            self.model.train()
            for epoch in range(epochs):
                for x, y in loader:
                    loss = torch.nn.functional.cross_entropy(self.model(x), y)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
"""


@pytest.mark.parametrize(("call", "expected"), [("", [("GL406", 8)]), ("# ", [])])
def test_a_private_freezing_method_whose_only_call_is_commented_out(tmp_path: Path, call: str, expected: list) -> None:
    """Round 69/b's active-learning classifier (a look-alike the first run reported): the
    freeze sits in ``__freeze_all_layers``, whose one call in ``__init__`` is commented out,
    so nothing is frozen and the whole ResNet trains."""
    write_project(tmp_path, {"resnet.py": PRIVATE_FREEZE.format(call=call)})
    findings = lint_in_process(tmp_path / "resnet.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
