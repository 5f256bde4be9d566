"""GL406 where ``requires_grad`` is set from a flag rather than written as ``False``
(``source/method_freezes.py``): ``param.requires_grad = self.train_cnn`` with the
constructor's default ``train_cnn=False``, the captioning tutorial's ``encoder.fine_tune(
fine_tune_encoder)`` with a module constant, and ``layer.requires_grad_(TRAIN)``. Held-out
rounds 6 and 11 (/work/heldout26 and /work/heldout34, image-captioning projects) shaped it."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ENCODER = """\
    import torch.nn as nn
    import torchvision.models as models


    class EncoderCNN(nn.Module):
        def __init__(self, embed_size, train_cnn=False):
            super().__init__()
            self.train_cnn = train_cnn
            resnet = models.resnet50(weights=None)
            for param in resnet.parameters():
                param.requires_grad = self.train_cnn
            self.resnet = nn.Sequential(*list(resnet.children())[:-1])
            self.fc = nn.Linear(2048, embed_size)

        def forward(self, images):
            return self.fc(self.resnet(images).flatten(1))
"""

SCRIPT = """\
    import torch
    from torch import nn

    from encoder import EncoderCNN

    model = EncoderCNN({arguments})
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_a_constructor_flag_whose_default_freezes(tmp_path: Path) -> None:
    write_project(tmp_path, {"encoder.py": ENCODER, "train.py": SCRIPT.format(arguments="256")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 6)
    assert finding.message.startswith("`model.resnet` has BatchNorm layers and `EncoderCNN` (encoder.py:10) returns "
                                      "it with its parameters frozen, but `model.train()` on line 8")


def test_a_constructor_flag_passed_true_trains_the_backbone(tmp_path: Path) -> None:
    for arguments in ("256, train_cnn=True", "256, True"):
        write_project(tmp_path, {"encoder.py": ENCODER, "train.py": SCRIPT.format(arguments=arguments)})
        assert lint_in_process(tmp_path / "train.py", "GL406") == [], arguments


def test_a_negated_flag_freezes_when_it_is_true(tmp_path: Path) -> None:
    encoder = ENCODER.replace("train_cnn=False", "freeze=True").replace("self.train_cnn = train_cnn",
                                                                       "self.freeze = freeze")
    encoder = encoder.replace("param.requires_grad = self.train_cnn", "param.requires_grad = not self.freeze")
    write_project(tmp_path, {"encoder.py": encoder, "train.py": SCRIPT.format(arguments="256")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 6
    write_project(tmp_path, {"train.py": SCRIPT.format(arguments="256, freeze=False")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


CAPTIONING = """\
    import torch
    import torchvision
    from torch import nn

    fine_tune_encoder = {constant}


    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            resnet = torchvision.models.resnet101(weights=None)
            self.resnet = nn.Sequential(*list(resnet.children())[:-2])
            self.fine_tune()

        def forward(self, images):
            return self.resnet(images)

        def fine_tune(self, fine_tune=True):
            for p in self.resnet.parameters():
                p.requires_grad = fine_tune


    encoder = Encoder()
    {call}
    head = nn.Linear(2048, 10)
    optimizer = torch.optim.Adam([*head.parameters(), *(p for p in encoder.parameters() if p.requires_grad)])
    encoder.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(head(encoder(x).mean((2, 3))), y).backward()
        optimizer.step()
"""


def test_a_method_freezing_by_its_flag_called_with_a_false_constant(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": CAPTIONING.format(constant="False",
                                                           call="encoder.fine_tune(fine_tune_encoder)")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 24)
    assert finding.message.startswith("`encoder.resnet` has BatchNorm layers and `Encoder.fine_tune` (line 19) "
                                      "freezes its parameters here, but `encoder.train()` on line 27")


def test_a_method_freezing_by_its_flag_left_at_its_default_or_passed_true(tmp_path: Path) -> None:
    # ``self.fine_tune()`` in __init__ uses the default (True): nothing is frozen
    for constant, call in (("False", "pass"), ("True", "encoder.fine_tune(fine_tune_encoder)"),
                           ("False", "encoder.fine_tune(True)")):
        write_project(tmp_path, {"train.py": CAPTIONING.format(constant=constant, call=call)})
        assert lint_in_process(tmp_path / "train.py", "GL406") == [], call


def test_a_method_name_two_classes_define_is_not_read(tmp_path: Path) -> None:
    other = "\n\nclass Other:\n    def fine_tune(self, flag=True):\n        pass\n"
    write_project(tmp_path, {"train.py": CAPTIONING.format(constant="False", call="encoder.fine_tune(False)")})
    source = (tmp_path / "train.py").read_text()
    (tmp_path / "train.py").write_text(source.replace("\n\nencoder = Encoder()", other + "\n\nencoder = Encoder()"))
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


LAYER = """\
    import torch
    import torchvision
    from torch import nn

    TRAIN_LAYER4 = {constant}

    model = torchvision.models.resnet18(weights=None)
    model.fc = nn.Linear(512, 3)
    model.layer4.requires_grad_({flag})
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for x, y in []:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_requires_grad_called_with_a_module_constant(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": LAYER.format(constant="False", flag="TRAIN_LAYER4")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 9)
    assert finding.message.startswith("`model.layer4` has BatchNorm layers and its parameters are frozen here")
    write_project(tmp_path, {"train.py": LAYER.format(constant="True", flag="TRAIN_LAYER4")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
    write_project(tmp_path, {"train.py": LAYER.format(constant="True", flag="not TRAIN_LAYER4")})
    assert [f.line for f in lint_in_process(tmp_path / "train.py", "GL406")] == [9]


def test_a_flag_nothing_decides_freezes_nothing(tmp_path: Path) -> None:
    # a value read from a file at run time: unknown, so no finding
    write_project(tmp_path, {"train.py": LAYER.format(constant="json.load(open('c.json'))['train']",
                                                      flag="TRAIN_LAYER4").replace("import torch\n", "import json\nimport torch\n", 1)})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_flag_left_undecided_does_not_hide_a_part_forward_runs_under_no_grad(tmp_path: Path) -> None:
    # held-out round 10: the flag comes from a config file, but forward runs the trunk
    # under no_grad whatever it says
    encoder = ENCODER.replace("""\
            for param in resnet.parameters():
                param.requires_grad = self.train_cnn
            self.resnet = nn.Sequential(*list(resnet.children())[:-1])
""", """\
            self.resnet = nn.Sequential(*list(resnet.children())[:-1])
            for param in self.resnet.parameters():
                param.requires_grad = self.train_cnn
""")
    encoder = encoder.replace("            return self.fc(self.resnet(images).flatten(1))",
                              "            with torch.no_grad():\n                features = self.resnet(images)\n"
                              "            return self.fc(features.flatten(1))").replace("import torch.nn", "import torch\n    import torch.nn")
    write_project(tmp_path, {"encoder.py": encoder,
                             "train.py": SCRIPT.format(arguments="256, train_cnn=config.get('train_cnn', False)")
                             .replace("from torch import nn\n", "from torch import nn\n    config = {}\n")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert "`EncoderCNN`" in finding.message


HOLDER = """\
    import torch.nn as nn

    from encoder import EncoderCNN


    class Captioner(nn.Module):
        def __init__(self, embed_size, tune_encoder=False):
            super().__init__()
            self.encoder = EncoderCNN(embed_size{passed})
            self.head = nn.Linear(embed_size, 10)

        def forward(self, images):
            return self.head(self.encoder(images))
"""


def test_a_class_holding_an_encoder_its_default_flag_freezes(tmp_path: Path) -> None:
    # held-out round 6 (a captioning system): the model class builds the encoder with the
    # encoder's default, ``train_cnn=False``
    write_project(tmp_path, {"encoder.py": ENCODER, "captioner.py": HOLDER.format(passed=""),
                             "train.py": SCRIPT.format(arguments="256").replace("from encoder import EncoderCNN",
                                                                               "from captioner import Captioner")
                             .replace("EncoderCNN(256)", "Captioner(256)")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 6)
    assert finding.message.startswith("`model.encoder.resnet` has BatchNorm layers and `Captioner` (captioner.py:9, "
                                      "through `EncoderCNN` at encoder.py:10) returns it with its parameters frozen")


def test_a_class_passing_its_own_flag_to_the_encoder_is_decided_where_it_is_built(tmp_path: Path) -> None:
    script = SCRIPT.replace("from encoder import EncoderCNN", "from captioner import Captioner")
    for arguments, expected in (("256", [6]), ("256, tune_encoder=True", []), ("256, True", [])):
        write_project(tmp_path, {"encoder.py": ENCODER, "captioner.py": HOLDER.format(passed=", tune_encoder"),
                                 "train.py": script.format(arguments=arguments).replace("EncoderCNN(", "Captioner(")})
        assert [f.line for f in lint_in_process(tmp_path / "train.py", "GL406")] == expected, arguments


def test_a_flag_read_from_a_configuration_class_or_module(tmp_path: Path) -> None:
    # held-out rounds 8 and 13: ``Encoder(Config.encoded_size, Config.encoder_finetune)`` with
    # ``class Config: encoder_finetune = False`` in config.py (or ``import settings``)
    config = "class Config:\n    embed = 256\n    train_cnn = {value}\n"
    for value, expected in (("False", [8]), ("True", [])):
        write_project(tmp_path, {"encoder.py": ENCODER, "config.py": config.format(value=value),
                                 "train.py": SCRIPT.format(arguments="Config.embed, train_cnn=Config.train_cnn")
                                 .replace("from encoder import EncoderCNN", "from config import Config\n    from encoder import EncoderCNN")
                                 .replace("    model = EncoderCNN", "\n    model = EncoderCNN")})
        assert [f.line for f in lint_in_process(tmp_path / "train.py", "GL406")] == expected, value
    write_project(tmp_path, {"settings.py": "TRAIN_CNN = False\n",
                             "train.py": SCRIPT.format(arguments="256, train_cnn=settings.TRAIN_CNN")
                             .replace("from encoder import EncoderCNN", "import settings\n    from encoder import EncoderCNN")})
    assert [f.line for f in lint_in_process(tmp_path / "train.py", "GL406")] == [7]
