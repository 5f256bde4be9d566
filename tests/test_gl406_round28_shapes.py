"""GL406 shapes from held-out round 28 (real code, ``bench/heldout/round28``):

- the course recipe that freezes ``model.features`` of a torchvision EfficientNet and trains
  it with ``engine.train(model=model, optimizer=optimizer, ...)`` from a helper module that
  is not in the repository (downloaded at run time): a training function gradlint cannot
  read, which puts the model in train mode;
- a model built and frozen once, then bound anew by ``model, transforms = factory()``
  before it is trained: the first freeze is not the one trained.
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

SCRIPT = """\
import torch
import torchvision
from torch import nn
from going_modular import engine

model = torchvision.models.efficientnet_b0(weights=None)
for param in model.features.parameters():
    param.requires_grad = False
model.classifier = nn.Linear(1280, 3)
optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
results = engine.train(model=model, train_dataloader=None, test_dataloader=None,
                       optimizer=optimizer, loss_fn=nn.CrossEntropyLoss(), epochs=5, device="cpu")
"""


def test_a_frozen_part_handed_to_a_training_function_outside_the_project(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 8)
    assert ("`model.features` has BatchNorm layers and its parameters are frozen here, but `model.train()` (which "
            "`engine.train`, handed it on line 11, a training function outside the project") in finding.message
    assert finding.fix is None  # an eval after the call would come once the training is over


def test_no_fix_is_offered_after_the_call_of_a_function_outside_the_project(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": SCRIPT.replace("results = engine.train(", "engine.train(").replace(
        "                       optimizer=", "             optimizer=")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.fix is None


def test_a_project_training_function_is_read_not_guessed(tmp_path: Path) -> None:
    # the same call, but engine.py is in the project and keeps the frozen part in eval mode
    write_project(tmp_path, {"train.py": SCRIPT, "going_modular/__init__.py": "", "going_modular/engine.py": """\
        def train(model, train_dataloader, test_dataloader, optimizer, loss_fn, epochs, device):
            for epoch in range(epochs):
                model.train()
                model.features.eval()
                for x, y in train_dataloader:
                    optimizer.zero_grad()
                    loss_fn(model(x), y).backward()
                    optimizer.step()
        """})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_call_handed_no_optimiser_is_no_training_function(tmp_path: Path) -> None:
    script = SCRIPT.replace("optimizer=optimizer, ", "")
    write_project(tmp_path, {"train.py": script})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


REBOUND = """\
import torch
import torchvision
from torch import nn
from going_modular import engine


def create_model():
    model = torchvision.models.efficientnet_b2(weights=None)
    for param in model.parameters():
        param.requires_grad = False
    model.classifier = nn.Linear(1408, 3)
    return model, None


effnet = torchvision.models.efficientnet_b2(weights=None)
for param in effnet.parameters():
    param.requires_grad = False
effnet, transforms = create_model()
optimizer = torch.optim.Adam(effnet.parameters(), lr=0.001)
engine.train(model=effnet.to("cpu"), optimizer=optimizer, epochs=5)
"""


def test_a_model_bound_anew_by_a_tuple_is_the_one_trained(tmp_path: Path) -> None:
    write_project(tmp_path, {"deploy.py": REBOUND})
    [finding] = lint_in_process(tmp_path / "deploy.py", "GL406")
    # the factory's model, trained at line 20; not the first `effnet`, frozen at line 17 and replaced
    assert finding.line == 18 and "`create_model` (line 9) returns it with its parameters frozen" in finding.message


LIGHTNING_PROBE = """\
import torch
import pytorch_lightning as pl
import torchvision.models.resnet as resnet


class Probe(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = resnet.resnet18()
        self.model.fc = torch.nn.Identity()
        self.model.eval()
        for param in self.model.parameters():
            param.requires_grad = False
        self.fc = torch.nn.Linear(512, 2)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.cross_entropy(self.fc(self.model(x)), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.fc.parameters())


def main():
    trainer = pl.Trainer(max_epochs=10)
    model = Probe()
    trainer.fit(model)
    model.eval()
"""


def test_an_eval_after_trainer_fit_comes_once_the_training_is_over(tmp_path: Path) -> None:
    # a linear probe whose encoder is put in eval only in __init__ (undone by the Trainer's train()),
    # evaluated after fit: the eval after fit does not cover the training (round 28, ssl-ijcb)
    write_project(tmp_path, {"linear_eval.py": LIGHTNING_PROBE})
    [finding] = lint_in_process(tmp_path / "linear_eval.py", "GL406")
    assert finding.line == 13
    assert "`trainer.fit(model)` on line 27" in finding.message


def test_a_frozen_model_built_anew_before_the_train_call_is_not_the_one_trained(tmp_path: Path) -> None:
    # a notebook export: a first densenet frozen to show the idea, then a new one built, frozen and trained
    write_project(tmp_path, {"cats.py": """\
        import torch
        from torch import nn
        from torchvision import models

        model = models.densenet121(weights=None)
        for param in model.parameters():
            param.requires_grad = False

        model = models.densenet121(weights=None)
        for param in model.parameters():
            param.requires_grad = False
        model.classifier = nn.Linear(1024, 2)
        optimizer = torch.optim.Adam(model.classifier.parameters())
        for epoch in range(3):
            model.train()
            for x, y in []:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
        """})
    [finding] = lint_in_process(tmp_path / "cats.py", "GL406")
    assert finding.line == 11  # the second model's freeze, not the first one's (line 7)


PERCEPTUAL = """\
import torch
import torchvision


class PerceptualLoss(torch.nn.Module):
    def __init__(self):
        super().__init__()
        blocks = []
        net = torchvision.models.{arch}(weights=None)
        blocks.append(torch.nn.Sequential(*list(net.children())[:4]).eval())
        blocks.append(torch.nn.Sequential(*list(net.children())[4:6]).eval())
        for bl in blocks:
            for p in bl.parameters():
                p.requires_grad = False
        self.blocks = torch.nn.ModuleList(blocks)

    def forward(self, x, y):
        loss = 0.0
        for block in self.blocks:
            x, y = block(x), block(y)
            loss = loss + torch.nn.functional.l1_loss(x, y)
        return loss
"""

SEGMENTER = """\
import torch
import pytorch_lightning as pl
from perceptual import PerceptualLoss


class Segmenter(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Conv2d(3, 3, 3, padding=1)
        self.pl = PerceptualLoss()

    def training_step(self, batch, batch_idx):
        x, y = batch
        return self.pl(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.net.parameters())
"""


def test_a_perceptual_loss_freezing_the_blocks_it_keeps_in_a_module_list(tmp_path: Path) -> None:
    # a resnet's blocks frozen one by one in a local list, kept as nn.ModuleList(blocks), put in eval
    # only at construction; the LightningModule holding it is put in train mode by the Trainer
    write_project(tmp_path, {"perceptual.py": PERCEPTUAL.format(arch="resnet18"), "module.py": SEGMENTER})
    [finding] = lint_in_process(tmp_path / "module.py", "GL406")
    assert finding.line == 10
    assert "`self.pl.blocks` has BatchNorm layers and `PerceptualLoss` (perceptual.py:13) returns it" in finding.message


def test_the_same_loss_over_vgg_without_batchnorm_is_fine(tmp_path: Path) -> None:
    write_project(tmp_path, {"perceptual.py": PERCEPTUAL.format(arch="vgg16"), "module.py": SEGMENTER})
    assert lint_in_process(tmp_path / "module.py", "GL406") == []


def test_layers_made_trainable_again_by_a_loop_over_their_names_are_named(tmp_path: Path) -> None:
    # a head phase on a frozen resnet, then `for layer in [...]: if layer in name: p.requires_grad = True`:
    # the stem stays frozen in train mode through both phases (a bone-fracture classifier, round 28)
    write_project(tmp_path, {"search.py": """\
        import torch
        from torch import nn
        from torchvision import models

        model = models.resnet50(weights=None)
        for param in model.parameters():
            param.requires_grad = False
        model.fc = nn.Linear(2048, 2)
        layers_to_unfreeze = ["layer3", "layer4", "fc"]
        for name, param in model.named_parameters():
            for layer_name in layers_to_unfreeze:
                if layer_name in name:
                    param.requires_grad = True
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad])
        for epoch in range(15):
            model.train()
            for x, y in []:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
        """})
    [finding] = lint_in_process(tmp_path / "search.py", "GL406")
    assert finding.line == 7
    assert "(`model.fc`, `model.layer3`, `model.layer4` trainable again; the rest stays frozen)" in finding.message
