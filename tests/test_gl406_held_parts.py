"""GL406 through a model that holds the frozen module (``source/held_parts.py``): a frozen
encoder handed to a captioning model's constructor (``model = Captioner(encoder, decoder)``,
kept as ``self.encoder``) or renamed (``model = encoder``), then trained with
``model.train()``. Held-out round 10 (/work/heldout32, an image-captioning project) shaped it."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ENCODER = """\
    import torch.nn as nn
    from torchvision import models


    class Encoder(nn.Module):
        def __init__(self, freeze=True):
            super().__init__()
            resnet = models.resnet50(weights=None)
            self.trunk = nn.Sequential(*list(resnet.children())[:-1])
            if freeze:
                for p in self.trunk.parameters():
                    p.requires_grad = False

        def forward(self, x):
            return self.trunk(x).flatten(1)


    class Captioner(nn.Module):
        def __init__(self, encoder, decoder):
            super().__init__()
            self.encoder = encoder
            self.decoder = decoder

        def forward(self, x):
            return self.decoder(self.encoder(x))


    class Head(nn.Module):
        def __init__(self, encoder):  # reads the encoder, keeps none of it
            super().__init__()
            self.fc = nn.Linear(encoder.trunk[-1].output_size[0] * 2048, 10)

        def forward(self, x):
            return self.fc(x)
"""

SCRIPT = """\
    import torch
    from torch import nn

    from nets import Captioner, Encoder


    def train_one_epoch(model, loader, optimizer):
        model.train()
        {restore}
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


    encoder = Encoder({flag})
    model = {holder}
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
    for epoch in range(3):
        train_one_epoch(model, [], optimizer)
"""


def _lint(tmp_path: Path, holder: str, flag: str = "", restore: str = "pass") -> list:
    write_project(tmp_path, {"nets.py": ENCODER,
                             "train.py": SCRIPT.format(holder=holder, flag=flag, restore=restore)})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_a_frozen_encoder_kept_by_the_model_it_is_handed_to(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "Captioner(encoder, nn.Linear(2048, 10))")
    assert (finding.code, finding.line) == ("GL406", 16)
    assert finding.message.startswith("`model.encoder.trunk` has BatchNorm layers and `Encoder` (nets.py:11) returns "
                                      "it with its parameters frozen as `encoder.trunk`, which `model` holds (line 17), "
                                      "but `model.train()` on line 8")


def test_a_frozen_encoder_renamed(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "encoder")
    assert (finding.code, finding.line) == ("GL406", 16)
    assert finding.message.startswith("`model.trunk` has BatchNorm layers and `Encoder` (nets.py:11) returns it with "
                                      "its parameters frozen as `encoder.trunk`, which `model` holds (line 17)")


def test_an_unfrozen_encoder_or_one_put_back_in_eval_by_its_own_name_is_quiet(tmp_path: Path) -> None:
    assert _lint(tmp_path, "Captioner(encoder, nn.Linear(2048, 10))", flag="freeze=False") == []
    assert _lint(tmp_path, "Captioner(encoder, nn.Linear(2048, 10))", restore="encoder.eval()") == []


def test_a_holder_that_does_not_keep_the_module_holds_nothing(tmp_path: Path) -> None:
    assert _lint(tmp_path, "Head(encoder)") == []


def test_a_function_returning_the_holder_it_built(tmp_path: Path) -> None:
    # the captioning project's ``build_model``: the frozen encoder never has a name in the script
    script = SCRIPT.replace("    encoder = Encoder({flag})\n    model = {holder}\n",
                            "    def build():\n        encoder = Encoder()\n        return Captioner(encoder, nn.Linear(2048, 10))\n\n\n"
                            "    model = build().to('cpu')\n")
    write_project(tmp_path, {"nets.py": ENCODER, "train.py": script.format(restore="pass")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 21)
    assert "`model.encoder.trunk` has BatchNorm layers and `build` (line 18, through `Encoder` at nets.py:11) returns it" \
        in finding.message


def test_classes_reexported_by_a_package_init(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets/__init__.py": "from .parts import Captioner, Encoder\n",
                             "nets/parts.py": ENCODER,
                             "train.py": SCRIPT.format(holder="Captioner(encoder, nn.Linear(2048, 10))", flag="",
                                                       restore="pass")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 16)
    assert "`Encoder` (nets/parts.py:11) returns it with its parameters frozen" in finding.message


def test_a_module_level_freeze_wrapped_for_tpu_and_trained_in_a_function(tmp_path: Path) -> None:
    # held-out round 10 (a Kaggle TPU notebook): ``MX = xmp.MpModelWrapper(net)``, and in the
    # spawned function ``model = MX.to(device)`` is the frozen net itself
    script = ("import torch\nimport torchvision\nimport torch_xla.distributed.xla_multiprocessing as xmp\n\n"
              "net = torchvision.models.resnet18(weights=None)\nfor param in net.parameters():\n"
              "    param.requires_grad = False\nnet.fc = torch.nn.Linear(512, 5)\nMX = xmp.MpModelWrapper(net)\n\n\n"
              "def train_loop_fn(loader, model, optimizer):\n    model.train()\n    for x, y in loader:\n"
              "        optimizer.zero_grad()\n        torch.nn.functional.cross_entropy(model(x), y).backward()\n"
              "        optimizer.step()\n\n\ndef run(index):\n    model = MX.to('xla')\n"
              "    optimizer = torch.optim.SGD(model.fc.parameters(), lr=0.1)\n    train_loop_fn([], model, optimizer)\n")
    write_project(tmp_path, {"exp.py": script})
    [finding] = lint_in_process(tmp_path / "exp.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert "`model.train()` on line 13" in finding.message


def test_a_function_returning_the_model_it_trained_and_validated_under_no_grad_freezes_nothing(tmp_path: Path) -> None:
    # held-out round 8 (lauraibnz): ``train(...)`` fits a model, validates it under no_grad and returns it
    script = ("import torch\nfrom torchvision import models\n\n\ndef train(loader):\n"
              "    model = models.resnet18(weights=None)\n    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n"
              "    for x, y in loader:\n        model.train()\n        optimizer.zero_grad()\n"
              "        torch.nn.functional.cross_entropy(model(x), y).backward()\n        optimizer.step()\n"
              "        model.eval()\n        with torch.no_grad():\n            model(x)\n    return model\n\n\n"
              "model = train([])\nmodel.train()\n")
    write_project(tmp_path, {"fit.py": script})
    assert lint_in_process(tmp_path / "fit.py", "GL406") == []


def test_a_name_rebound_after_its_freeze_hands_on_a_new_model(tmp_path: Path) -> None:
    # held-out round 11 (arunsivakumar5): ``model`` frozen, kept as ``model_cur``; then ``model``
    # is a fresh, unfrozen network kept as ``model_plain`` and trained: that one is not frozen
    script = ("import torch\nimport torchvision\n\n\ndef fit(model, loader):\n    model.train()\n"
              "    for x, y in loader:\n        torch.nn.functional.cross_entropy(model(x), y).backward()\n\n\n"
              "def main():\n    model = torchvision.models.resnet18(weights=None)\n    for p in model.parameters():\n"
              "        p.requires_grad = False\n    model_cur = model.to('cpu')\n"
              "    model = torchvision.models.resnet18(weights=None)\n    model_plain = model.to('cpu')\n"
              "    fit({trained}, [])\n")
    write_project(tmp_path, {"run.py": script.format(trained="model_plain")})
    assert lint_in_process(tmp_path / "run.py", "GL406") == []
    write_project(tmp_path, {"run.py": script.format(trained="model_cur")})
    [finding] = lint_in_process(tmp_path / "run.py", "GL406")
    assert (finding.line, "which `model_cur` holds (line 15)" in finding.message) == (14, True)
