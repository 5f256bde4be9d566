"""GL406 shapes of synthetic round 65s (``bench/heldout/round65s``, small projects fresh
evaluators wrote in the style of public code), in our own words: ADDA's source encoder frozen
by a ``freeze(module)`` helper of a utilities module and handed to the adaptation function,
never put in eval mode (65s/b)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

UTILS = """\
    import torch


    def freeze(module):
        for p in module.parameters():
            p.{freeze}


    def save_model(net, path):
        torch.save(net.state_dict(), path)
"""

ADAPT = """\
    import torch
    from torchvision import models
    from utils import freeze, save_model


    def train_target(source, target, critic, loader):
        target.train()
        opt = torch.optim.Adam(list(target.parameters()) + list(critic.parameters()))
        for epoch in range(50):
            for xs, xt in loader:
                loss = critic(source(xs)).mean() - critic(target(xt)).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        return target


    def main(loader):
        source = models.resnet50(weights=None)
        target = models.resnet50(weights=None)
        freeze(source)
        critic = torch.nn.LazyLinear(1)
        target = train_target(source, target, critic, loader)
        save_model(target, "target.pt")
"""


@pytest.mark.parametrize(("freeze", "expected"), [("requires_grad = False", [("GL406", 21)]),
                                                   ("requires_grad = True", [])])
def test_a_source_encoder_frozen_by_a_helper_module_and_never_put_in_eval(tmp_path: Path, freeze: str,
                                                                          expected: list) -> None:
    write_project(tmp_path, {"utils.py": UTILS.format(freeze=freeze), "adapt.py": ADAPT})
    findings = lint_in_process(tmp_path / "adapt.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("nothing puts it in eval mode" in f.message for f in findings)


NETS = """\
    import torch.nn as nn
    from torchvision import models


    class LesionNet(nn.Module):
        def __init__(self, classes=2, freeze_trunk=False):
            super().__init__()
            self.trunk = models.resnet34(weights="DEFAULT")
            self.trunk.fc = nn.Identity()
            self.head = nn.Linear(512, classes)
            if freeze_trunk:
                self.trunk.requires_grad_(False)

        def forward(self, x):
            return self.head(self.trunk(x))


    def make_net(cfg):
        net_cfg = cfg["net"]
        return LesionNet(net_cfg["classes"], freeze_trunk={read})
"""

RUN = """\
    import argparse

    import torch
    import yaml
    from nets import make_net


    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("--config", default="configs/base.yaml")
        with open(parser.parse_args().config) as f:
            cfg = yaml.safe_load(f)
        net = make_net(cfg)
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        for epoch in range(cfg["epochs"]):
            net.train()
            for x, y in []:
                loss = torch.nn.functional.cross_entropy(net(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
"""


@pytest.mark.parametrize("read", ['net_cfg.get("freeze_trunk", False)', 'net_cfg["freeze_trunk"]',
                                  'cfg["net"]["freeze_trunk"]'])
@pytest.mark.parametrize(("configs", "expected"), [
    ({"base.yaml": "epochs: 30\nnet:\n  classes: 2\n  freeze_trunk: true  # linear probe\n"}, [("GL406", 13)]),
    ({"base.yaml": "net:\n  freeze_trunk: yes\n", "probe.yaml": "net:\n  freeze_trunk: true\n"}, [("GL406", 13)]),
    ({"base.yaml": "epochs: 30\nnet:\n  classes: 2\n  freeze_trunk: false\n"}, []),
    # a sweep that sets it both ways: the probe's run freezes it (round 66/a's age-estimation configs)
    ({"base.yaml": "net:\n  freeze_trunk: false\n", "probe.yaml": "net:\n  freeze_trunk: true\n"}, [("GL406", 13)]),
    ({"base.yaml": "net:\n  freeze_trunk: false\n", "full.yaml": "net:\n  freeze_trunk: no\n"}, []),
])
def test_a_freeze_flag_read_from_the_yaml_config_named_on_the_command_line(tmp_path: Path, read: str, configs: dict,
                                                                         expected: list) -> None:
    """65s/a's roof segmentation: ``freeze_encoder: true`` in the project's config.yaml,
    which the script loads by an argparse path, read through ``cfg["model"].get(...)``."""
    write_project(tmp_path, {"nets.py": NETS.format(read=read), "run.py": RUN,
                             **{f"configs/{name}": text for name, text in configs.items()}})
    findings = lint_in_process(tmp_path / "run.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("`make_net`" in f.message for f in findings)


OPTIM = """\
    import torch


    def make_optimizer(net, settings):
        if settings["{key}"]:
            groups = net.fc.parameters()
        else:
            groups = net.parameters()
        return torch.optim.AdamW(groups, lr=settings["lr"])


    def one_epoch(net, batches, loss_fn, optimizer, training=True):
        net.train(training)
        for images, labels in batches:
            with torch.set_grad_enabled(training):
                loss = loss_fn(net(images), labels)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
"""

SETTINGS = """\
    SETTINGS = {{"lr": 3e-4, "linear_only": {linear_only}, "epochs": 12}}
"""

FIT = """\
    import torch.nn as nn
    from torchvision import models

    from engine import make_optimizer, one_epoch
    from settings import SETTINGS


    def main(batches, settings=SETTINGS):
        net = models.resnet18(weights="DEFAULT")
        net.fc = nn.Linear(512, 7)
        optimizer = make_optimizer(net, settings)
        for epoch in range(settings["epochs"]):
            one_epoch(net, batches, nn.CrossEntropyLoss(), optimizer, training=True)
            one_epoch(net, batches, nn.CrossEntropyLoss(), optimizer, training=False)


    if __name__ == "__main__":
        main([])
"""


@pytest.mark.parametrize(("key", "linear_only", "expected"), [
    ("linear_only", True, [("GL406", 11)]),
    ("linear_only", False, []),
    ("missing", True, []),  # a key the settings do not hold: which arm runs is unknown
])
def test_an_optimiser_helper_of_another_module_taking_only_the_head_by_a_settings_flag(
        tmp_path: Path, key: str, linear_only: bool, expected: list) -> None:
    """65s/a's food classifier: ``get_optimizer(model, cfg)`` of a loops module takes only
    ``model.classifier`` when the settings dict (a default of ``main``, imported from another
    module) says ``head_only``; the whole network is put in train mode every epoch."""
    write_project(tmp_path, {"engine.py": OPTIM.format(key=key), "settings.py": SETTINGS.format(linear_only=linear_only),
                             "fit.py": FIT})
    findings = lint_in_process(tmp_path / "fit.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("only `net.fc` is optimised" in f.message and "`one_epoch` (engine.py:13)" in f.message
               for f in findings)


def test_an_optimiser_helper_of_the_same_file_returning_adam_over_the_classifier(tmp_path: Path) -> None:
    write_project(tmp_path, {"run.py": """\
        import torch
        from torchvision import models


        def build_opt(model):
            opt = torch.optim.Adam(model.classifier.parameters(), lr=1e-3)
            return opt


        def fit(loader):
            model = models.efficientnet_b0(weights="DEFAULT")
            head_opt = build_opt(model)
            model.train()
            for x, y in loader:
                loss = torch.nn.functional.cross_entropy(model(x), y)
                head_opt.zero_grad()
                loss.backward()
                head_opt.step()
    """})
    findings = lint_in_process(tmp_path / "run.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 12)]
    assert "only `model.classifier` is optimised" in findings[0].message


ZOO = """\
    import torch.nn as nn
    from torchvision import models

    BACKBONES = {{}}


    def {registrar}:
        {body}


    @{decorate_r50}
    def frozen_r50(classes):
        net = models.resnet50(weights="DEFAULT")
        net.fc = nn.Linear(2048, classes)
        for key, weight in net.named_parameters():
            weight.requires_grad = key.startswith(("layer4", "fc"))
        return net


    @{decorate_vgg}
    def plain_vgg(classes):
        net = models.vgg11(weights="DEFAULT")
        net.features.requires_grad_(False)
        return net


    def create(arch, classes):
        return BACKBONES[arch](classes)
"""

KEYED = ("register(key)", "def wrap(fn):\n            BACKBONES[key] = fn\n            return fn\n        return wrap",
         'register("r50")', 'register("vgg")')
BARE = ("register(fn)", "BACKBONES[fn.__name__] = fn\n        return fn", "register", "register")

TUNE = """\
    import torch
    from zoo import create


    def tune(loader):
        model = create({arch!r}, 10)
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
        for epoch in range(20):
            model.train()
            for x, y in loader:
                loss = torch.nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()


    if __name__ == "__main__":
        tune([])
"""


@pytest.mark.parametrize(("registrar", "body", "decorate_r50", "decorate_vgg"), [KEYED, BARE])
@pytest.mark.parametrize(("key", "expected"), [("r50", [("GL406", 6)]), ("frozen_r50", [("GL406", 6)]),
                                               ("vgg", []), ("plain_vgg", [])])
def test_a_model_picked_from_a_registry_filled_by_decorators(tmp_path: Path, registrar: str, body: str,
                                                             decorate_r50: str, decorate_vgg: str, key: str,
                                                             expected: list) -> None:
    """65s/a's herbarium classifier: ``get_model("effnet_b3")`` returns ``_REGISTRY[name](...)``
    of a registry ``@register("effnet_b3")`` fills; the registered builder freezes every
    parameter whose name does not start with the trained stages' prefixes."""
    keyed = registrar == KEYED[0]
    if (key in ("r50", "vgg")) != keyed:
        expected = []  # a key the registry does not hold: nothing is built
    write_project(tmp_path, {"zoo.py": ZOO.format(registrar=registrar, body=body, decorate_r50=decorate_r50,
                                                  decorate_vgg=decorate_vgg),
                             "tune.py": TUNE.format(arch=key)})
    findings = lint_in_process(tmp_path / "tune.py", "GL406")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("`create` (zoo.py:" in f.message for f in findings)
