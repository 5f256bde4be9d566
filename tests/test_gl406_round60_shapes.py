"""GL406 shapes of held-out round 60 (``bench/heldout/round60``), in our own words: a
multi-teacher distillation system that registers its pretrained teachers in an
``nn.ModuleDict``, puts each in eval mode and freezes it in ``__init__`` (``for teacher in
self.teachers.values(): ...``), and is then trained with ``model.train()``, which walks into
the ModuleDict and undoes the eval (round 60/b, a medical multi-teacher KD framework)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

SYSTEM = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    class Wrapped(nn.Module):
        def __init__(self, backbone, classes):
            super().__init__()
            self.backbone = backbone
            self.head = nn.Linear(1000, classes)

        def forward(self, x):
            return self.head(self.backbone(x))


    def build_teachers(classes):
        teachers = {{}}
        teachers["chest"] = Wrapped(models.{arch}(weights=None), classes)
        teachers["skin"] = Wrapped(models.{arch}(weights=None), classes)
        return teachers


    class Distiller(nn.Module):
        def __init__(self, teachers, classes):
            super().__init__()
            self.student = models.resnet18(num_classes=classes)
            self.teachers = {kept}
            for {loop}:
                teacher.eval()
                for weight in teacher.parameters():
                    weight.requires_grad = False

        def forward(self, x):
            with torch.no_grad():
                soft = [teacher(x) for name, teacher in self.teachers.items()]
            return self.student(x), soft


    def one_epoch(model, loader, optimizer):
        model.train()
        for x, y in loader:
            logits, soft = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


    def main():
        model = Distiller(build_teachers(3), 3)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        for epoch in range(40):
            one_epoch(model, [], optimizer)


    if __name__ == "__main__":
        main()
"""

VALUES = "teacher in self.teachers.values()"
ITEMS = "name, teacher in self.teachers.items()"


def _lint(tmp_path: Path, arch: str = "resnet50", kept: str = "nn.ModuleDict(teachers)", loop: str = VALUES) -> list:
    write_project(tmp_path, {"distill.py": SYSTEM.format(arch=arch, kept=kept, loop=loop)})
    return lint_in_process(tmp_path / "distill.py", "GL406")


@pytest.mark.parametrize("loop", [VALUES, ITEMS])
def test_teachers_frozen_in_a_module_dict_and_put_back_in_train_mode(tmp_path: Path, loop: str) -> None:
    findings = _lint(tmp_path, loop=loop)
    assert [(f.code, f.line) for f in findings] == [("GL406", 31)]  # (the freeze)
    assert "`model.teachers`" in findings[0].message


def test_teachers_without_batchnorm_are_quiet(tmp_path: Path) -> None:
    assert _lint(tmp_path, arch="vgg16") == []


def test_teachers_put_back_in_eval_after_train_are_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"distill.py": SYSTEM.format(arch="resnet50", kept="nn.ModuleDict(teachers)", loop=VALUES)
                             .replace("    model.train()\n", "    model.train()\n    model.teachers.eval()\n")})
    assert lint_in_process(tmp_path / "distill.py", "GL406") == []


ENCODER = """\
    import torch.nn as nn


    class Encoder(nn.Module):
        def __init__(self, size, inception, requires_grad=False):
            super().__init__()
            self.Conv2d_1a_3x3 = inception.Conv2d_1a_3x3
            self.Conv2d_2a_3x3 = inception.Conv2d_2a_3x3
            self.Mixed_5b = inception.Mixed_5b
            self.fc = nn.Linear(288, size)
            for weight in self.parameters():
                weight.requires_grad = requires_grad

        def forward(self, x):
            return self.fc(self.Mixed_5b(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x))).mean((2, 3)))
"""

CAPTIONER = """\
    import argparse

    import torch
    import torch.nn as nn
    from torchvision import models

    from encoder import Encoder

    parser = argparse.ArgumentParser()
    parser.add_argument("--finetune", action="store_true")
    args = parser.parse_args()
    encoder = Encoder(256, models.{arch}(weights=None), requires_grad=args.finetune)
    decoder = nn.LSTM(256, 256)
    optimizer = torch.optim.Adam(decoder.parameters())
    for epoch in range(20):
        decoder.train()
        for images, captions in []:
            features = encoder(images)
            loss = decoder(features)[0].mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


@pytest.mark.parametrize("arch, reported", [("inception_v3", True), ("vgg16", False)])
def test_a_class_keeping_the_layers_of_the_model_it_is_handed_freezes_that_model(tmp_path: Path, arch: str,
                                                                                  reported: bool) -> None:
    # (round 46/b's captioner, missed until round 60's session: ``self.Mixed_5b = inception.Mixed_5b`` ...,
    # ``requires_grad=args.finetune`` with a store-true option; the encoder is never put in eval mode)
    write_project(tmp_path, {"encoder.py": ENCODER, "train.py": CAPTIONER.format(arch=arch)})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == ([("GL406", 12)] if reported else [])  # (the build)
