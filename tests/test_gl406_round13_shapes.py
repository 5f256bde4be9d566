"""GL406 on the shapes held-out round 13 (/work/heldout38, /work/heldout39) found it could
not read, or read wrongly; each project is written here in our own words:
- a trainer class whose method builds the frozen model (``self.create_model()``) and whose
  other method trains it (``self.train_fold(model)``), and the same class imported by a
  script (``trainer.build_model()``, ``trainer.train(model)``);
- ``Trainer.from_argparse_args(args).fit(model)`` (Lightning);
- an EfficientNet of ``efficientnet_pytorch``, in a notebook export with ``!pip`` lines;
- ``if phase == "train": model.train()`` and ``if phase == "val": model.eval()``;
- two models bound in turn to one name in a notebook, each frozen: two findings;
- a method that always freezes the trunk, called by ``__init__``;
and the look-alikes that must stay quiet: a module freezing under ``if __name__ != ...``
(a script importing it skips the freeze), a train() chosen by the encoder's optimiser
(``if encoder_optimizer: encoder.train() else: encoder.eval()``), and a builder picked by a
one-item list of names (``for name in ["AlexNet"]``)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

CROSS_VALIDATOR = """\
    import torch
    import torchvision.models as models
    from torch import nn


    class CrossValidator:
        def create_model(self):
            model = models.resnet50(weights=None)
            for param in model.parameters():
                param.requires_grad = False
            model.fc = nn.Linear(2048, 120)
            return model

        def train_fold(self, model, loader):
            optimizer = torch.optim.Adam(model.fc.parameters())
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()

        def run(self, loaders):
            for loader in loaders:
                model = self.create_model()
                self.train_fold(model, loader)
"""


def test_a_trainer_class_building_and_training_the_frozen_model(tmp_path: Path) -> None:
    write_project(tmp_path, {"cv.py": CROSS_VALIDATOR})
    [finding] = lint_in_process(tmp_path / "cv.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 10)
    assert "`model.train()` on line 16" in finding.message


def test_an_imported_trainer_class_building_and_training_the_frozen_model(tmp_path: Path) -> None:
    trainer = CROSS_VALIDATOR.replace("def create_model(self)", "def build_model(self)").replace(
        "def train_fold(self, model, loader)", "def train(self, model, loader)")
    trainer = trainer[:trainer.index("        def run(self")]
    write_project(tmp_path, {"engine.py": trainer,
                             "main.py": "from engine import CrossValidator\n\ntrainer = CrossValidator()\n"
                                        "model = trainer.build_model()\ntrainer.train(model, [])\n"})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 4)
    assert finding.message.startswith("`model` has BatchNorm layers and `CrossValidator.build_model` (engine.py:9) "
                                      "returns it with its parameters frozen, but `model.train()` in "
                                      "`CrossValidator.train` (engine.py:16), called on line 5")


def test_a_lightning_trainer_made_from_argparse_args(tmp_path: Path) -> None:
    module = ("import torch\nimport pytorch_lightning as pl\nfrom torch import nn\nfrom torchvision import models\n\n\n"
              "class Captioner(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n"
              "        self.cnn = models.resnet50(weights=None)\n        self.cnn.requires_grad_(False)\n"
              "        self.head = nn.Linear(1000, 10)\n\n    def training_step(self, batch, index):\n"
              "        x, y = batch\n        return nn.functional.cross_entropy(self.head(self.cnn(x)), y)\n\n"
              "    def configure_optimizers(self):\n        return torch.optim.Adam(self.head.parameters())\n")
    script = ("from argparse import ArgumentParser\n\nfrom pytorch_lightning import Trainer\n\n"
              "args = ArgumentParser().parse_args()\nmodel = Captioner()\ntrainer = Trainer.from_argparse_args(args)\n"
              "trainer.fit(model)\n")
    # (in one file: with the module in another, that module reports it, see test_gl406_lightning_steps)
    write_project(tmp_path, {"train.py": module + script})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 11)
    assert "`model.train()` (which `trainer.fit(model)` on line 27 calls every training epoch)" in finding.message


NOTEBOOK = """\
    # -*- coding: utf-8 -*-
    \"\"\"Exported from a notebook.\"\"\"

    !pip install efficientnet-pytorch
    %matplotlib inline

    import torch
    from torch import nn
    from efficientnet_pytorch import EfficientNet


    def train(model, optimizer, loader, epochs):
        for epoch in range(epochs):
            for phase in ["train", "val"]:
                if phase == "train":
                    model.train()
                if phase == "val":
                    model.eval()
                for x, y in loader:
                    optimizer.zero_grad()
                    nn.functional.cross_entropy(model(x), y).backward()
                    optimizer.step()


    model = EfficientNet.from_pretrained("efficientnet-b1")
    for param in model.parameters():
        param.requires_grad = False
    model._fc = nn.Linear(model._fc.in_features, 4)
    train(model, torch.optim.SGD(model._fc.parameters(), lr=0.01), [], 3)

    model = EfficientNet.from_pretrained("efficientnet-b2")
    for param in model.parameters():
        param.requires_grad = False
    model._fc = nn.Linear(model._fc.in_features, 4)
    train(model, torch.optim.SGD(model._fc.parameters(), lr=0.01), [], 3)
"""


def test_a_notebook_export_with_shell_lines_and_two_frozen_efficientnets(tmp_path: Path) -> None:
    write_project(tmp_path, {"notebook.py": NOTEBOOK})
    findings = lint_in_process(tmp_path / "notebook.py", "GL001", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 27), ("GL406", 33)]
    assert all("`model.train()` in `train` (line 16)" in f.message or "`model.train()` on line 16" in f.message
               for f in findings)


def test_a_real_syntax_error_beside_shell_lines_is_still_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"notebook.py": NOTEBOOK.replace("import torch\n", "import torch as\n")})
    [finding] = lint_in_process(tmp_path / "notebook.py", "GL001", "GL406")
    assert finding.code == "GL001"


ENCODER = """\
    import torch.nn as nn
    import torchvision.models as models


    class Encoder(nn.Module):
        def __init__(self, fine_tune=False):
            super().__init__()
            self.resnet = nn.Sequential(*list(models.resnet152(weights=None).children())[:-2])
            self.fine_tune(fine_tune)

        def forward(self, images):
            return self.resnet(images)

        def fine_tune(self, fine_tune=True):
            for p in self.resnet.parameters():
                p.requires_grad = False
            if fine_tune:
                for c in list(self.resnet.children())[7:]:
                    for p in c.parameters():
                        p.requires_grad = True
"""


def test_a_method_that_always_freezes_called_by_init(tmp_path: Path) -> None:
    script = ("import torch\nfrom nets import Encoder\n\n\ndef train(encoder, optimizer, loader):\n"
              "    encoder.train()\n    for x in loader:\n        optimizer.zero_grad()\n"
              "        encoder(x).mean().backward()\n        optimizer.step()\n\n\n"
              "encoder = Encoder()\ntrain(encoder, torch.optim.Adam([torch.zeros(1, requires_grad=True)]), [])\n")
    write_project(tmp_path, {"nets.py": ENCODER, "train.py": script})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 13)
    assert finding.message.startswith("`encoder.resnet` has BatchNorm layers and `Encoder` (nets.py:9) returns it")


def test_a_module_freeze_a_script_skips_on_import_is_quiet(tmp_path: Path) -> None:
    module = ("from torchvision import models\n\nmodel = models.regnet_x_800mf(weights=None)\n\n"
              "if __name__ != 'model.model':\n    for param in model.parameters():\n        param.requires_grad = False\n")
    script = ("import torch\nfrom torch import nn\nfrom model.model import model\n\n"
              "optimizer = torch.optim.Adam(model.parameters())\nmodel.train()\nfor x, y in []:\n"
              "    optimizer.zero_grad()\n    nn.functional.cross_entropy(model(x), y).backward()\n    optimizer.step()\n")
    write_project(tmp_path, {"model/__init__.py": "", "model/model.py": module, "train.py": script})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_train_mode_chosen_by_the_encoders_optimiser_is_quiet(tmp_path: Path) -> None:
    script = ("import torch\nfrom nets import Encoder\n\n\n"
              "def train(encoder, encoder_optimizer, optimizer, loader):\n    if encoder_optimizer:\n"
              "        encoder.train()\n    else:\n        encoder.eval()\n    for x in loader:\n"
              "        optimizer.zero_grad()\n        encoder(x).mean().backward()\n        optimizer.step()\n\n\n"
              "encoder = Encoder()\n"
              "train(encoder, None, torch.optim.Adam([torch.zeros(1, requires_grad=True)]), [])\n")
    frozen = ENCODER.replace("            self.fine_tune(fine_tune)\n",
                             "            for p in self.resnet.parameters():\n                p.requires_grad = False\n")
    write_project(tmp_path, {"nets.py": frozen, "train.py": script})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
    # the same helper choosing train mode by another flag trains the frozen encoder
    write_project(tmp_path, {"train.py": script.replace("if encoder_optimizer:", "if loader is not None:")})
    assert [f.line for f in lint_in_process(tmp_path / "train.py", "GL406")] == [16]


def test_a_builder_picked_by_a_one_item_list_of_names(tmp_path: Path) -> None:
    utils = ("from torch import nn\nfrom torchvision import models\n\n\ndef initialize_model(model_name, classes):\n"
             "    if model_name == 'ResNet18':\n        model = models.resnet18(weights=None)\n"
             "        for param in model.parameters():\n            param.requires_grad = False\n"
             "    elif model_name == 'AlexNet':\n        model = models.alexnet(weights=None)\n"
             "        for param in model.parameters():\n            param.requires_grad = False\n"
             "    return model\n")
    script = ("import torch\nfrom torch import nn\nfrom utils import initialize_model\n\nmodel_list = [{names}]\n"
              "for model_name in model_list:\n    model = initialize_model(model_name, 2)\n"
              "    optimizer = torch.optim.Adam(model.parameters())\n    model.train()\n    for x, y in []:\n"
              "        optimizer.zero_grad()\n        nn.functional.cross_entropy(model(x), y).backward()\n"
              "        optimizer.step()\n")
    write_project(tmp_path, {"utils.py": utils, "train.py": script.format(names="'AlexNet'")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
    write_project(tmp_path, {"train.py": script.format(names="'ResNet18'")})
    assert [f.line for f in lint_in_process(tmp_path / "train.py", "GL406")] == [7]
