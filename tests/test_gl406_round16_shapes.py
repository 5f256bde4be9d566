"""GL406 on shapes held-out round 16 (/work/heldout44, /work/heldout45) found it could not
read; each project is written here in our own words:
- a linear probe whose ``train_one_epoch`` is a function nested in ``main``, reading
  ``main``'s frozen model;
- a linear evaluation that never sets a mode and hands the model only to an early-stopping
  helper that saves a checkpoint;
- a ``LinearClassifier(encoder)`` freezing the encoder it is handed, built in ``main``
  from another model's ``.encoder``;
- a trainer class keeping ``self.model = model.to(device)``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

PROBE = """\
    import torch
    from torch import nn
    from torchvision import models


    def main(loader):
        model = models.resnet18(weights=None)
        model.fc = nn.Linear(512, 10)
        for p in model.parameters():
            p.requires_grad = False
        model.fc.requires_grad_(True)
        optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.01)

        def train_one_epoch({parameter}):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()

        for epoch in range(10):
            train_one_epoch({argument})
"""


def test_a_nested_training_function_reads_the_frozen_model(tmp_path: Path) -> None:
    write_project(tmp_path, {"probe.py": PROBE.format(parameter="", argument="")})
    [finding] = lint_in_process(tmp_path / "probe.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 10)
    assert "`model.train()` on line 15 puts it back in train mode" in finding.message


def test_a_nested_function_with_its_own_model_is_another_model(tmp_path: Path) -> None:
    write_project(tmp_path, {"probe.py": PROBE.format(parameter="model", argument="nn.Linear(2, 2)")})
    assert lint_in_process(tmp_path / "probe.py", "GL406") == []


EARLY_STOP = """\
    import torch


    class EarlyStopping:
        def __init__(self, patience=7, path="best.pth"):
            self.patience, self.path, self.best = patience, path, None

        def __call__(self, loss, model):
            if self.best is None or loss < self.best:
                self.best = loss
                torch.save(model.state_dict(), self.path){extra}
"""

LINEAR_EVAL = """\
    import torch
    import torchvision
    from torch import nn

    from earlystop import EarlyStopping


    def main(loader):
        model = torchvision.models.resnet18(weights=None, num_classes=10)
        for name, param in model.named_parameters():
            if name not in ["fc.weight", "fc.bias"]:
                param.requires_grad = False
        optimizer = torch.optim.Adam(model.parameters())
        early_stop = EarlyStopping(patience=7)
        for epoch in range(10):
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            early_stop(loss.item(), model)
"""


def test_a_model_only_handed_to_a_checkpointing_helper_stays_in_train_mode(tmp_path: Path) -> None:
    write_project(tmp_path, {"earlystop.py": EARLY_STOP.format(extra=""), "linear_eval.py": LINEAR_EVAL})
    [finding] = lint_in_process(tmp_path / "linear_eval.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 12)
    assert "nothing puts it in eval mode" in finding.message
    assert "running it on line 17 in the training loop" in finding.message


def test_a_helper_that_may_set_the_mode_is_not_read_as_neutral(tmp_path: Path) -> None:
    extra = "\n            model.eval()"
    write_project(tmp_path, {"earlystop.py": EARLY_STOP.format(extra=extra), "linear_eval.py": LINEAR_EVAL})
    assert lint_in_process(tmp_path / "linear_eval.py", "GL406") == []


LINEAR_CLASSIFIER = """\
    import torch
    from torch import nn
    from torchvision import models


    class Contrastive(nn.Module):
        def __init__(self):
            super().__init__()
            resnet = models.resnet18(weights=None)
            self.encoder = nn.Sequential(*list(resnet.children())[:-1])
            self.projection = nn.Linear(512, 128)


    class LinearClassifier(nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder
            self.classifier = nn.Linear(512, 1)
            for param in self.encoder.parameters():
                param.requires_grad = False

        def forward(self, x):
            return self.classifier(self.encoder(x).flatten(1))


    def main(loader):
        contrastive = Contrastive()
        model = LinearClassifier(contrastive.{part})
        optimizer = torch.optim.Adam(model.classifier.parameters())
        for epoch in range(5):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
                optimizer.step()
"""


def test_an_encoder_handed_to_the_freezing_class_is_read_where_it_is_passed(tmp_path: Path) -> None:
    write_project(tmp_path, {"linear_eval.py": LINEAR_CLASSIFIER.format(part="encoder")})
    [finding] = lint_in_process(tmp_path / "linear_eval.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 20)
    assert finding.message.startswith("`model.encoder` has BatchNorm layers and its parameters are frozen here")


def test_a_handed_part_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"linear_eval.py": LINEAR_CLASSIFIER.format(part="projection")})
    assert lint_in_process(tmp_path / "linear_eval.py", "GL406") == []


CAPTIONER = """\
    import torch
    from torch import nn
    from torchvision import models


    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            resnet = models.resnet50(weights=None)
            self.features = nn.Sequential(*list(resnet.children())[:-1])
            for param in self.features.parameters():
                param.requires_grad = False

        def forward(self, images):
            return self.features(images).flatten(1)


    class Captioner(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.decoder = nn.Linear(2048, 100)

        def forward(self, images):
            return self.decoder(self.encoder(images))


    class Trainer:
        def __init__(self, model, device):
            self.model = model.to(device)
            self.optimizer = torch.optim.Adam(self.model.parameters())

        def train_one_epoch(self, loader):
            self.model.train()
            for x, y in loader:
                self.optimizer.zero_grad()
                nn.functional.cross_entropy(self.model(x), y).backward()
                self.optimizer.step()


    captioner = Captioner()
    Trainer(captioner, "cpu").train_one_epoch([])
"""


def test_a_trainer_keeping_the_model_moved_to_a_device(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": CAPTIONER})
    findings = lint_in_process(tmp_path / "train.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 41)]
    assert findings[0].message.startswith("`captioner.encoder.features` has BatchNorm layers and `Captioner` (line 21, "
                                          "through `Encoder` at line 11) returns it with its parameters frozen, but "
                                          "`self.model.train()` in `Trainer` (line 34), called on line 42")
