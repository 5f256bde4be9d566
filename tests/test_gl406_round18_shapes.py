"""GL406 on shapes held-out round 18 (/work/heldout48, /work/heldout49) found it could not
read, or read wrongly; each project is written here in our own words:
- an ``Encoder(resnet)`` class keeping ``nn.Sequential(*list(resnet.children())[:-2])`` of
  the model it is handed, frozen by a method (``encoder.freeze_all()``);
- a factory freezing children by name with ``isinstance(child, nn.Conv2d) or name in
  frozen`` and a local set of stage names;
- a helper ``freeze_encoder(encoder)`` called on a parameter of ``run_experiment``, whose
  callers pass a resnet; the same parameter name elsewhere is another model;
- a probe class freezing ``self.enc`` in ``__init__``, with another model trained under the
  same name in another function;
- an evaluation function (``encoder.eval()`` then ``torch.no_grad()``) freezes nothing;
- BYOL/DINO momentum copies are frozen to the optimiser but meant to run in train mode."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

_LOOP = """
    for epoch in range(3):
        {model}.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy({model}(x), y).backward()
            optimizer.step()
"""

ENCODER = """\
    from torch import nn


    class Encoder(nn.Module):
        def __init__(self, resnet):
            super().__init__()
            self.cnn = nn.Sequential(*list(resnet.children())[:-2])
            self.pool = nn.AdaptiveAvgPool2d(1)

        def forward(self, x):
            return self.pool(self.cnn(x)).flatten(1)

        def freeze_all(self):
            for p in self.cnn.parameters():
                p.requires_grad = False
"""

CAPTION = """\
    import torch
    from torch import nn
    from torchvision import models

    from lstm import Encoder

    resnet = models.{arch}(weights=None)
    encoder = Encoder(resnet)
    encoder.freeze_all()
    decoder = nn.Linear(2048, 10)
    optimizer = torch.optim.AdamW(decoder.parameters())
    for epoch in range(3):
        encoder.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(decoder(encoder(x)), y).backward()
            optimizer.step()
"""


def test_a_class_keeping_the_layers_of_the_model_it_is_handed(tmp_path: Path) -> None:
    write_project(tmp_path, {"lstm.py": ENCODER, "train.py": CAPTION.format(arch="resnet50")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 9)
    assert finding.message.startswith("`encoder.cnn` has BatchNorm layers and `Encoder.freeze_all` (lstm.py:14)")
    assert "`encoder.train()` on line 13" in finding.message


def test_a_class_keeping_the_layers_of_a_model_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"lstm.py": ENCODER, "train.py": CAPTION.format(arch="vgg16")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


FACTORY = """\
    import torch
    from torch import nn
    from torchvision import models


    def freeze_backbone(model):
        frozen = {{"layer1", "layer2", "layer3", "layer4"}}
        for name, child in model.named_children():
            if {test}:
                for param in child.parameters():
                    param.requires_grad = False


    model = models.resnet50(weights=None)
    freeze_backbone(model)
    optimizer = torch.optim.Adam(p for p in model.parameters() if p.requires_grad)
""" + _LOOP.format(model="model")


def test_children_frozen_by_a_local_set_of_stage_names_or_by_type(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": FACTORY.format(test="isinstance(child, nn.Conv2d) or name in frozen")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 15)
    assert "`freeze_backbone` (line 8) freezes its parameters here" in finding.message


def test_children_frozen_only_by_type_are_unknown_and_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": FACTORY.format(test="isinstance(child, nn.Conv2d) and name in frozen")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


PROBE = """\
    import torch
    import torchvision
    from torch import nn


    def resnet_encoder():
        encoder = torchvision.models.resnet18(weights=None)
        encoder.fc = nn.Identity()
        return encoder


    class LinearProbe(nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder
            self.classifier = nn.Linear(512, 10)

        def forward(self, x):
            return self.classifier(self.encoder(x))


    def freeze_encoder(encoder):
        for param in encoder.parameters():
            param.requires_grad = False


    def pretrain(encoder, loader, optimizer):
        encoder.train()
        for x, y in loader:
            optimizer.zero_grad()
            encoder(x).sum().backward()
            optimizer.step()


    def train_probe(model, loader, optimizer):
        for epoch in range(20):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()


    def similarity(encoder, x):
        encoder.eval()
        with torch.no_grad():
            return encoder(x)


    def run_experiment(encoder, loader):
        freeze_encoder(encoder)
        model = LinearProbe(encoder)
        optimizer = torch.optim.Adam(model.classifier.parameters(), lr=3e-4)
        train_probe(model, loader, optimizer)


    if __name__ == "__main__":
        encoder = resnet_encoder()
        similarity(encoder, torch.randn(2, 3, 32, 32))
        pretrain(encoder, [], torch.optim.Adam(encoder.parameters()))
        run_experiment({passed}, [])
"""


def test_a_freezing_helper_on_a_parameter_whose_callers_pass_a_resnet(tmp_path: Path) -> None:
    write_project(tmp_path, {"probe.py": PROBE.format(passed="resnet_encoder()")})
    [finding] = lint_in_process(tmp_path / "probe.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 51)
    assert finding.message.startswith("`model.encoder` has BatchNorm layers and `freeze_encoder` (line 23) freezes its "
                                      "parameters here as `encoder`, which `model` holds (line 52), but "
                                      "`model.train()` on line 37")


def test_a_freezing_helper_whose_callers_pass_a_model_without_batchnorm_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"probe.py": PROBE.format(passed="nn.Linear(3, 512)")})
    assert lint_in_process(tmp_path / "probe.py", "GL406") == []


FROZEN_NET = """\
    import torch
    import torchvision
    from torch import nn


    class FrozenNet(nn.Module):
        def __init__(self, enc):
            super().__init__()
            self.enc = enc
            self.head = nn.Linear(512, 10)
            for p in self.enc.parameters():
                p.requires_grad_(False)

        def forward(self, x):
            return self.head(self.enc(x))


    class FullNet(nn.Module):
        def __init__(self, enc):
            super().__init__()
            self.enc = enc
            self.head = nn.Linear(512, 10)

        def forward(self, x):
            return self.head(self.enc(x))


    def supervised(loader):
        model = FullNet(torchvision.models.resnet18(weights=None))
        optimizer = torch.optim.Adam(model.parameters())
        for epoch in range(30):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()


    def probe(enc, loader):
        model = FrozenNet(enc)
        optimizer = torch.optim.Adam(model.head.parameters())
        for epoch in range(20):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()


    probe(torchvision.models.resnet18(weights=None), [])
"""


def test_a_class_frozen_part_is_trained_where_that_class_is_built(tmp_path: Path) -> None:
    write_project(tmp_path, {"run.py": FROZEN_NET})
    [finding] = lint_in_process(tmp_path / "run.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 12)
    assert "`model.train()` on line 43" in finding.message


BYOL = """\
    import copy

    import torch
    import torchvision
    from torch import nn


    class BYOL(nn.Module):
        def __init__(self, beta=0.996):
            super().__init__()
            self.online = torchvision.models.resnet18(weights=None)
            self.target = copy.deepcopy(self.online)
            for p in self.target.parameters():
                p.requires_grad = False
            self.beta = beta

        @torch.no_grad()
        def update_target(self):
            for online, target in zip(self.online.parameters(), self.target.parameters()):
                {update}

        def forward(self, x1, x2):
            with torch.no_grad():
                t = self.target(x2)
            return nn.functional.cosine_similarity(self.online(x1), t).mean()


    model = BYOL()
    optimizer = torch.optim.Adam(model.online.parameters())
    for epoch in range(10):
        model.train()
        for x1, x2 in []:
            optimizer.zero_grad()
            (-model(x1, x2)).backward()
            optimizer.step()
            model.update_target()
"""


def test_a_momentum_copy_of_the_online_network_is_quiet(tmp_path: Path) -> None:
    for update in ("target.data.mul_(self.beta).add_(online.data, alpha=1 - self.beta)",
                   "target.data = self.beta * target.data + (1 - self.beta) * online.data",
                   "target.lerp_(online, 1 - self.beta)"):
        write_project(tmp_path, {"byol.py": BYOL.format(update=update)})
        assert lint_in_process(tmp_path / "byol.py", "GL406") == [], update


def test_a_one_time_copy_is_not_a_momentum_update(tmp_path: Path) -> None:
    write_project(tmp_path, {"byol.py": BYOL.format(update="target.data.copy_(online.data)")})
    [finding] = lint_in_process(tmp_path / "byol.py", "GL406")
    # (the copy made by ``copy.deepcopy(self.online)`` holds the resnet's BatchNorm: named at its freeze)
    assert (finding.code, finding.line) == ("GL406", 14)
    assert finding.message.startswith("`model.target` has BatchNorm layers and its parameters are frozen here, "
                                      "but `model.train()` on line 31 puts it back in train mode")


def test_the_train_call_of_a_same_named_model_of_the_script_is_not_the_probes(tmp_path: Path) -> None:
    supervised = """\
    def train_one_epoch(model, loader, optimizer):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


"""
    source = PROBE.replace("    def freeze_encoder(encoder):", supervised + "    def freeze_encoder(encoder):")
    source = source.replace("        run_experiment(", "        model = resnet_encoder()\n"
                            "        train_one_epoch(model, [], torch.optim.Adam(model.parameters()))\n"
                            "        run_experiment(")
    write_project(tmp_path, {"probe.py": source.format(passed="resnet_encoder()")})
    [finding] = lint_in_process(tmp_path / "probe.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 59)
    assert "`model.train()` on line 45" in finding.message



CHECKPOINT_OR_NEW = """\
    import torch
    import torchvision
    from torch import nn


    def run_epoch(model, loader, optimizer):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


    def train_phase(model, loader, optimizer, epochs):
        for epoch in range(epochs):
            run_epoch(model, loader, optimizer)


    def main(checkpoint=None):
        if checkpoint is None:
            model = torchvision.models.efficientnet_b0(weights=None)
            for p in model.features.parameters():
                p.requires_grad = False
        else:
            model = torch.load(checkpoint)
        optimizer = torch.optim.Adam(p for p in model.parameters() if p.requires_grad)
        train_phase(model, [], optimizer, 5)
"""


def test_a_model_loaded_in_the_other_branch_and_a_two_level_training_chain(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": CHECKPOINT_OR_NEW})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 23)
    assert "`model.train()` on line 7" in finding.message


CONFIGURED = """\
    import torch
    import torchvision
    from torch import nn


    def build(train_cnn=False):
        model = torchvision.models.resnet18(weights=None)
        if not train_cnn:
            for p in model.parameters():
                p.requires_grad = False
        model.fc = nn.Linear(512, 10)
        return model


    cfg = {{}}
    model = build(train_cnn=cfg.get("train_cnn", {default}))
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.1)
""" + _LOOP.format(model="model")


def test_a_configuration_read_counts_with_its_default(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": CONFIGURED.format(default="False")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 16)
    write_project(tmp_path, {"train.py": CONFIGURED.format(default="True")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
