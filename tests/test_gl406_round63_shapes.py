"""GL406 shapes of held-out round 63 (``bench/heldout/round63``), in our own words: a
captioning script whose training function builds a frozen encoder and never puts it in eval
mode while its evaluation function builds another one and does (63/b); a notebook export
whose checkpoint-loading cell is switched off with ``if False:`` and which saves
``{"model": model}`` every few epochs (63/b)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ENCODER = """\
    import torch.nn as nn
    from torchvision import models


    class Encoder(nn.Module):
        def __init__(self, size):
            super().__init__()
            self.resnet = models.resnet152(weights="DEFAULT")
            for weight in self.resnet.parameters():
                weight.requires_grad = False
            self.resnet.fc = nn.Linear(self.resnet.fc.in_features, size)

        def forward(self, images):
            return self.resnet(images)
"""

CAPTION = """\
    import torch
    from model import Encoder


    def train(loader):
        encoder = Encoder(256)
        optimizer = torch.optim.Adam(encoder.resnet.fc.parameters())
        for epoch in range(5):
            for images, targets in loader:
                optimizer.zero_grad()
                torch.nn.functional.mse_loss(encoder(images), targets).backward()
                optimizer.step()


    def evaluate(images):
        encoder = Encoder(256)
        encoder.{mode}()
        return encoder(images)
"""


def test_an_evaluation_function_setting_its_own_encoders_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": ENCODER, "caption.py": CAPTION.format(mode="eval")})
    findings = lint_in_process(tmp_path / "caption.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 6)]
    assert "nothing puts it in eval mode" in findings[0].message


NOTEBOOK = """\
    import torch
    from model import Encoder

    if {switch}:
        saved = torch.load("encoder.model")
        model, opt = saved["model"], saved["opt"]
    else:
        model = Encoder(256)
        opt = torch.optim.Adam(model.resnet.fc.parameters())

    for epoch in range(5):
        for images, targets in []:
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(images), targets).backward()
            opt.step()
        if epoch % 3 == 2:
            torch.save({{"opt": opt, "model": model}}, "encoder.model")
"""


def test_a_loading_cell_switched_off_and_a_saved_checkpoint_dict(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": ENCODER, "notebook.py": NOTEBOOK.format(switch="False")})
    findings = lint_in_process(tmp_path / "notebook.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 8)]


def test_a_model_loaded_from_a_checkpoint_may_come_in_eval_mode(tmp_path: Path) -> None:
    # (``if resume:``: the loaded model's mode is not known here)
    write_project(tmp_path, {"model.py": ENCODER, "notebook.py": NOTEBOOK.format(switch="resume").replace(
        "import torch\n", "import sys\nimport torch\n\nresume = len(sys.argv) > 1\n", 1)})
    assert lint_in_process(tmp_path / "notebook.py", "GL406") == []


FACTORY = """\
    import torch.nn as nn
    from torchvision import models


    def build_classifier(classes, freeze_backbone=False):
        model = models.resnet18(weights="DEFAULT")
        if freeze_backbone:
            for name, weight in model.named_parameters():
                weight.requires_grad = name.startswith("fc.")
        model.fc = nn.Linear(512, classes)
        return model
"""

CONFIGURED = """\
    from dataclasses import dataclass

    import torch
    from factory import build_classifier


    @dataclass
    class TrainingConfig:
        epochs: int = 5
        freeze_backbone: bool = {default}


    def train(config: TrainingConfig):
        model = build_classifier(14, freeze_backbone=config.freeze_backbone)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad])
        for epoch in range(config.epochs):
            model.train()
            for x, y in []:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
"""


def test_a_freeze_flag_read_from_a_typed_configuration_parameter(tmp_path: Path) -> None:
    # (round 63/a's camera-trap classifier: ``config: TrainingConfig`` with ``freeze_backbone: bool = True``)
    for default, expected in (("True", [("GL406", 14)]), ("False", [])):
        write_project(tmp_path, {"factory.py": FACTORY, "train.py": CONFIGURED.format(default=default)})
        assert [(f.code, f.line) for f in lint_in_process(tmp_path / "train.py", "GL406")] == expected
