"""GL406 on the shapes held-out round 5 (/work/heldout22) found it could not read: factories
returning a tuple into a trainer object's attribute, a model frozen at module level of the
module a script star-imports, a frozen encoder kept by another class, a trunk run under
``torch.no_grad()`` in forward, and a backbone nobody ever puts in eval mode. The projects
are written here, in our own words."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project


BACKBONES = """\
    import torch
    from torchvision import models


    def frozen_resnet(classes):
        net = models.resnet50(weights=None)
        for p in net.parameters():
            p.requires_grad = False
        net.fc = torch.nn.Linear(2048, classes)
        return net, 224


    def frozen_vgg(classes):
        net = models.vgg16(weights=None)
        for p in net.parameters():
            p.requires_grad = False
        return net, 224


    def frozen_mobilenet(classes):
        net = torch.hub.load("pytorch/vision", "mobilenet_v2", weights=None)
        for p in net.features.parameters():
            p.requires_grad = False
        return net, 256
"""

TRAINER = """\
    import torch
    from torch import nn

    from backbones import *


    class Runner:
        def __init__(self, arch, classes):
            if arch == "resnet":
                self.model, self.size = frozen_resnet(classes)
            elif arch == "vgg":
                self.model, self.size = frozen_vgg(classes)
            else:
                self.model, self.size = frozen_mobilenet(classes)
            self.optimizer = torch.optim.SGD([p for p in self.model.parameters() if p.requires_grad], lr=0.1)

        def epoch(self, loader):
            self.model.train()
            for x, y in loader:
                self.optimizer.zero_grad()
                nn.functional.cross_entropy(self.model(x), y).backward()
                self.optimizer.step()

        def train(self, loader, epochs):
            for _ in range(epochs):
                self.epoch(loader)


    runner = Runner("resnet", 10)
    runner.train([], 5)
"""


def test_tuple_returning_factories_into_an_attribute_each_found_once(tmp_path: Path) -> None:
    write_project(tmp_path, {"backbones.py": BACKBONES, "run.py": TRAINER})
    findings = lint_in_process(tmp_path / "run.py", "GL406")
    # the VGG has no BatchNorm; each factory with one is its own finding
    assert [f.line for f in findings] == [10, 14]
    assert findings[0].message.startswith("`self.model` has BatchNorm layers and `frozen_resnet` (backbones.py:7)")
    assert "`frozen_mobilenet` (backbones.py:22)" in findings[1].message and "`self.model.features`" in findings[1].message
    # Runner is no nn.Module: runner.train() is its own loop, not a mode switch
    assert all("`self.model.train()` on line 18" in f.message for f in findings)


MODULE_LEVEL = {
    "setup.py": """\
        import torch
        from torchvision import models
        """,
    "model.py": """\
        from setup import *

        model = models.densenet121(weights=None)
        for param in model.parameters():
            param.requires_grad = False
        model.classifier = torch.nn.Linear(1024, 2)
        optimizer = torch.optim.Adam(model.classifier.parameters(), lr=0.003)
        """,
    "main.py": """\
        from model import *

        for epoch in range(3):
            for x, y in []:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
            model.eval()
            model.train()
        """,
}


def test_a_model_frozen_at_module_level_of_a_star_imported_module(tmp_path: Path) -> None:
    # model.py knows `models` only through its own star import of setup.py
    write_project(tmp_path, MODULE_LEVEL)
    (finding,) = lint_in_process(tmp_path / "main.py", "GL406")
    assert finding.line == 1
    assert "it is frozen where it is built (model.py:4) and imported here" in finding.message
    assert "`model.train()` on line 9 puts it back" in finding.message


def test_a_module_level_model_put_back_in_eval_is_quiet(tmp_path: Path) -> None:
    files = dict(MODULE_LEVEL, **{"main.py": MODULE_LEVEL["main.py"].replace("model.train()", "model.eval()")})
    write_project(tmp_path, files)
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


CAPTIONER = """\
    import torch
    from torch import nn
    from torchvision import models


    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            cnn = models.resnet34(weights=None)
            for p in cnn.parameters():
                p.requires_grad_(False)
            layers = list(cnn.children())[:-2]
            self.cnn = nn.Sequential(*layers)

        def forward(self, images):
            return self.cnn(images)


    class Captioner(nn.Module):
        def __init__(self, vocab):
            super().__init__()
            self.encoder = Encoder()
            self.decoder = nn.LSTM(512, 256)
"""

CAPTION_SCRIPT = """\
    import torch
    from torch import nn

    from nets import Captioner

    model = Captioner(1000).to("cpu")
    optimizer = torch.optim.Adam(model.decoder.parameters())


    def train(model, loader):
        for _ in range(2):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                model(x).sum().backward()
                optimizer.step()
            model.eval()


    train(model, [])
"""


def test_a_frozen_encoder_kept_by_another_class(tmp_path: Path) -> None:
    # also: a module-level function named train that calls eval is no train() override
    write_project(tmp_path, {"nets.py": CAPTIONER, "run.py": CAPTION_SCRIPT})
    (finding,) = lint_in_process(tmp_path / "run.py", "GL406")
    assert finding.line == 6
    assert ("`model.encoder.cnn` has BatchNorm layers and `Captioner` (nets.py:22, through `Encoder` at nets.py:10)"
            in finding.message)


TRUNK = """\
    import torch
    from torch import nn
    import torchvision


    class Trunk(nn.Module):
        def __init__(self, size):
            super().__init__()
            net = torchvision.models.resnet18(weights=None)
            self.body = nn.Sequential(*list(net.children())[:-1])
            self.proj = nn.Linear(512, size)

        def forward(self, x):
            with torch.no_grad():
                x = self.body(x)
            return self.proj(x.flatten(1))
"""


def test_a_trunk_run_under_no_grad_in_forward(tmp_path: Path) -> None:
    write_project(tmp_path, {"trunk.py": TRUNK, "run.py": """\
        import torch
        from trunk import Trunk

        encoder = Trunk(128)
        optimizer = torch.optim.Adam(encoder.parameters())
        for epoch in range(3):
            encoder.train()
            for x in []:
                optimizer.zero_grad()
                encoder(x).pow(2).mean().backward()
                optimizer.step()
        """})
    (finding,) = lint_in_process(tmp_path / "run.py", "GL406")
    assert finding.line == 4
    assert "`Trunk` builds it and runs it under torch.no_grad() in forward (trunk.py:15)" in finding.message
    assert finding.message.startswith("`encoder.body` has BatchNorm layers")


TRAINER_CLASS = """\
    class Trainer:
        def __init__(self, model, optimizer, loader):
            self.net = model
            self.optimizer = optimizer
            self.loader = loader

        def fit(self, epochs):
            for _ in range(epochs):
                self.net.train()
                for x, y in self.loader:
                    self.optimizer.zero_grad()
                    self.net(x).logsumexp(1).mean().backward()
                    self.optimizer.step()
"""


def test_a_trainer_class_of_a_project_module_built_with_the_frozen_model(tmp_path: Path) -> None:
    write_project(tmp_path, {"engine/__init__.py": "", "engine/trainer.py": TRAINER_CLASS, "run.py": """\
        import torch
        from torchvision import models
        from engine.trainer import Trainer

        model = models.efficientnet_b0(weights=None)
        model.features.requires_grad_(False)
        optimizer = torch.optim.Adam(model.classifier.parameters())
        Trainer(model, optimizer, []).fit(10)
        """})
    (finding,) = lint_in_process(tmp_path / "run.py", "GL406")
    assert finding.line == 6
    assert ("`self.net.train()` in `Trainer` (engine/trainer.py:9), called on line 8 with `model`, puts it back"
            in finding.message)


def test_a_trainer_class_that_puts_the_model_back_in_eval_is_quiet(tmp_path: Path) -> None:
    trainer = TRAINER_CLASS.replace("self.net.train()\n", "self.net.train()\n                self.net.features.eval()\n")
    write_project(tmp_path, {"trainer.py": trainer, "run.py": """\
        import torch
        from torchvision import models
        from trainer import Trainer

        model = models.efficientnet_b0(weights=None)
        model.features.requires_grad_(False)
        Trainer(model, torch.optim.Adam(model.classifier.parameters()), []).fit(10)
        """})
    assert "self.net.features.eval()" in (tmp_path / "trainer.py").read_text()
    assert lint_in_process(tmp_path / "run.py", "GL406") == []


def test_a_class_whose_train_override_puts_its_frozen_part_back_in_eval_is_quiet(tmp_path: Path) -> None:
    # held-out round 6 (a video captioning project): the override lives in the encoder's own module
    encoder = CAPTIONER.replace("""        def forward(self, images):
            return self.cnn(images)
""", """        def forward(self, images):
            return self.cnn(images)

        def train(self, mode=True):
            super().train(mode)
            self.cnn.eval()
            return self
""")
    write_project(tmp_path, {"nets.py": encoder, "run.py": CAPTION_SCRIPT})
    assert "self.cnn.eval()" in (tmp_path / "nets.py").read_text()
    assert lint_in_process(tmp_path / "run.py", "GL406") == []


def test_a_sequential_subclass_that_freezes_itself_kept_by_a_detector(tmp_path: Path) -> None:
    # held-out round 6 (a Faster R-CNN course project): the backbone class freezes all of itself
    write_project(tmp_path, {
        "backbone.py": """\
            from torch import nn
            from torchvision.models import resnet50


            class Backbone(nn.Sequential):
                def __init__(self):
                    super().__init__()
                    for layer in list(resnet50(weights=None).children())[:-2]:
                        self.append(layer)
                    for p in self.parameters():
                        p.requires_grad = False
            """,
        "detector.py": """\
            from torch import nn
            from backbone import Backbone


            class Detector(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.backbone = Backbone()
                    self.head = nn.Conv2d(2048, 9, 1)
            """,
        "run.py": """\
            import torch
            from detector import Detector
            from trainer import Trainer

            model = Detector()
            Trainer(model, torch.optim.SGD(model.head.parameters(), lr=0.01), []).fit(2)
            """,
        "trainer.py": TRAINER_CLASS})
    (finding,) = lint_in_process(tmp_path / "run.py", "GL406")
    assert finding.line == 5
    assert ("`model.backbone` has BatchNorm layers and `Detector` (detector.py:8, through `Backbone` at backbone.py:10)"
            in finding.message)


def test_requires_grad_set_in_forward_with_the_head_left_trainable(tmp_path: Path) -> None:
    # held-out round 6 (an image-captioning tutorial copy): forward freezes all but the fc by name
    write_project(tmp_path, {"enc.py": """\
        from torch import nn
        import torchvision


        class Encoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.cnn = torchvision.models.inception_v3(weights=None, aux_logits=False)

            def forward(self, x):
                for name, p in self.cnn.named_parameters():
                    if "fc." in name:
                        p.requires_grad = True
                    else:
                        p.requires_grad = False
                return self.cnn(x)
        """, "run.py": """\
        import torch
        from enc import Encoder

        model = Encoder()
        optimizer = torch.optim.Adam(model.parameters())
        model.train()
        for x in []:
            optimizer.zero_grad()
            model(x).sum().backward()
            optimizer.step()
        """})
    (finding,) = lint_in_process(tmp_path / "run.py", "GL406")
    assert finding.line == 4 and finding.message.startswith("`model.cnn` has BatchNorm layers and `Encoder` (enc.py:11)")
