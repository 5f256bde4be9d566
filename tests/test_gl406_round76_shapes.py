"""GL406 shapes of held-out round 76 (``bench/heldout/round76``), in our own words: a
notebook's model rebuilt before a training class gets it, tests on parameter names that
spare more than a head, a head-only run fine-tuned by a rebuilt model of the same name, a
freeze behind a configuration entry that is off, a backbone a helper runs without gradients
after it trained, the YOLO recipe's parameter groups with a distillation teacher kept in
train mode, and a second head-only run after a full fine-tuning cell."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

ENGINE = """\
    import torch


    class Engine:
        def __init__(self, model):
            self.model = model
            self.optimizer = torch.optim.Adam(p for p in model.parameters() if p.requires_grad)

        def fit(self, loader, epochs=10):
            for epoch in range(epochs):
                self.model.train()
                for x, y in loader:
                    loss = torch.nn.functional.cross_entropy(self.model(x), y)
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
"""

REBUILT_FOR_THE_ENGINE = """\
    import torch
    import torchvision
    from engine import Engine

    model = torchvision.models.resnet18(weights="DEFAULT")
    model.fc = torch.nn.Linear(512, 7)
    for name, param in model.named_parameters():
        if "fc" not in name:
            param.requires_grad = False
    model.eval()
    with torch.no_grad():
        print(model(torch.randn(1, 3, 224, 224)).argmax())

    model = torchvision.models.resnet18(weights="DEFAULT")
    model.fc = torch.nn.Linear(512, 7)
    engine = Engine(model)
    engine.fit([])
"""


def test_a_model_rebuilt_before_a_training_class_gets_it_is_not_the_frozen_one(tmp_path: Path) -> None:
    # (round 76/a, 4TT4: cell 1 freezes and only predicts; cell 3 builds another model for the engine)
    write_project(tmp_path, {"engine.py": ENGINE, "notebook.py": REBUILT_FOR_THE_ENGINE})
    assert lint_in_process(tmp_path / "notebook.py", "GL406") == []


def test_the_frozen_model_handed_to_a_training_class_is_still_reported(tmp_path: Path) -> None:
    frozen = REBUILT_FOR_THE_ENGINE.replace("""\
    model.eval()
    with torch.no_grad():
        print(model(torch.randn(1, 3, 224, 224)).argmax())

    model = torchvision.models.resnet18(weights="DEFAULT")
    model.fc = torch.nn.Linear(512, 7)
""", "")
    write_project(tmp_path, {"engine.py": ENGINE, "notebook.py": frozen})
    [finding] = lint_in_process(tmp_path / "notebook.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 9)


NAMED_STAGES = """\
    import torch
    import torch.nn as nn


    def block(c_in, c_out):
        return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


    class AudioNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer_1 = block(1, 32)
            self.layer_2 = block(32, 64)
            self.layer_3 = block(64, 64)
            self.classifier = nn.Linear(64, 7)

        def forward(self, x):
            x = self.layer_3(self.layer_2(self.layer_1(x)))
            return self.classifier(x.mean((2, 3)))


    model = AudioNet()
    for name, param in model.named_parameters():
        if {test}:
            param.requires_grad = True
        else:
            param.requires_grad = False
    optimizer = torch.optim.Adam(p for p in model.parameters() if p.requires_grad)
    for epoch in range(20):
        model.train()
        for x, y in []:
            loss = nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


def test_a_name_test_that_spares_the_last_stage_names_it(tmp_path: Path) -> None:
    # (round 76/a, 4TT4's YAMNet: layer_12, layer_13 and the classifier trainable)
    write_project(tmp_path, {"train.py": NAMED_STAGES.format(test='"layer_3" in name or "classifier" in name')})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 27)
    assert "(`model.classifier`, `model.layer_3` trainable again; the rest stays frozen)" in finding.message


RESNET_BY_NAME = """\
    import torch
    import torchvision

    model = torchvision.models.resnet50(weights="DEFAULT")
    for name, param in model.named_parameters():
        if "layer4" not in name and "fc" not in name:
            param.requires_grad = False
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    for epoch in range(20):
        model.train()
        for x, y in []:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""


def test_a_name_test_that_spares_a_stage_beside_the_head_names_both(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": RESNET_BY_NAME})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 7)
    assert "(`model.fc`, `model.layer4` trainable again; the rest stays frozen)" in finding.message


TWO_STAGES = """\
    import torch
    import torch.nn as nn
    from torchvision.models import densenet121


    def run(model, optimizer, epochs):
        for epoch in range(epochs):
            model.train()
            for x, y in []:
                loss = nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()


    model = densenet121(weights="DEFAULT")
    for param in model.features.parameters():
        param.requires_grad = False
    model.classifier = nn.Linear(1024, 5)
    run(model, torch.optim.Adam(model.classifier.parameters()), 5)
    torch.save(model.state_dict(), "stage1.pth")

    model = densenet121(weights="DEFAULT")
    model.classifier = nn.Linear(1024, 5)
    {load}
    {reopen}
    run(model, torch.optim.Adam(model.parameters(), lr=1e-4), 10)
"""


def test_a_head_only_run_a_rebuilt_model_of_the_same_name_fine_tunes_is_a_warm_up(tmp_path: Path) -> None:
    # (round 76/a, VuppalaShasank's DenseNet notebook: stage 1 head-only, stage 2 rebuilt, loaded, unfrozen)
    load = 'model.load_state_dict(torch.load("stage1.pth"))'
    write_project(tmp_path, {"stages.py": TWO_STAGES.format(
        load=load, reopen="for param in model.parameters():\n        param.requires_grad = True"),
        "built_trainable.py": TWO_STAGES.format(load=load, reopen="")})
    assert lint_in_process(tmp_path / "stages.py", "GL406") == []
    assert lint_in_process(tmp_path / "built_trainable.py", "GL406") == []


def test_a_head_only_run_whose_rebuilt_model_does_not_load_its_weights_is_reported(tmp_path: Path) -> None:
    # (a second experiment from the pretrained weights, not a fine-tuning of the first run)
    write_project(tmp_path, {"stages.py": TWO_STAGES.format(load="", reopen="")})
    [finding] = lint_in_process(tmp_path / "stages.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 18)


CONFIGURED = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    class ResNetClassifier(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.num_classes = config.get("num_classes", 10)
            self.freeze_backbone = config.get("freeze_backbone", False)
            self.model = None

        def build_model(self):
            self.model = models.resnet50(weights="DEFAULT")
            if self.freeze_backbone:
                for param in self.model.parameters():
                    param.requires_grad = False
            self.model.fc = nn.Linear(2048, self.num_classes)

        def fit(self, loader, epochs=10):
            if self.model is None:
                self.build_model()
            self.model.train()
            optimizer = torch.optim.Adam(p for p in self.model.parameters() if p.requires_grad)
            for epoch in range(epochs):
                for x, y in loader:
                    loss = nn.functional.cross_entropy(self.model(x), y)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
    {demo}
"""

DEMO = """
    if __name__ == "__main__":
        config = {{"num_classes": 3, "freeze_backbone": {value}}}
        ResNetClassifier(config).fit([])
"""


def test_a_freeze_behind_a_configuration_entry_that_is_off_is_not_reported(tmp_path: Path) -> None:
    # (round 76/b, ValladaresBlanco: config.get("freeze_backbone", False), the demo passes False)
    write_project(tmp_path, {"plain.py": CONFIGURED.format(demo=""),
                             "demo.py": CONFIGURED.format(demo=DEMO.format(value="False"))})
    assert lint_in_process(tmp_path / "plain.py", "GL406") == []
    assert lint_in_process(tmp_path / "demo.py", "GL406") == []


def test_a_freeze_behind_a_configuration_entry_the_file_turns_on_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"demo.py": CONFIGURED.format(demo=DEMO.format(value="True"))})
    [finding] = lint_in_process(tmp_path / "demo.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 17)


TRAINER = """\
    import torch


    def train_epoch(head, backbone, optimizer, loader):
        head.train()
        for x, y in loader:
            loss = torch.nn.functional.mse_loss(head(backbone(x)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


    def eval_epoch(head, backbone, loader):
        head.eval()
        with torch.no_grad():
            return [head(backbone(x)) for x, _ in loader]
"""

QUALITY = """\
    import torch
    import torchvision
    from trainer import eval_epoch, train_epoch

    head = torch.nn.Linear(1000, 1)
    backbone = torchvision.models.resnet50(weights="DEFAULT")
    optimizer = torch.optim.Adam(head.parameters(), lr=1e-4)
    for epoch in range(50):
        train_epoch(head, backbone, optimizer, [])
        scores = eval_epoch(head, backbone, [])
"""


def test_a_backbone_out_of_the_optimiser_is_reported_where_it_is_built(tmp_path: Path) -> None:
    # (round 76/b, anse3832's IQT: the report sat on the evaluation call, after the training call)
    write_project(tmp_path, {"trainer.py": TRAINER, "train.py": QUALITY})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 6)
    assert "`eval_epoch` (trainer.py:16), called on line 10, runs it under torch.no_grad()" in finding.message


ENCODER = """\
    import torch.nn as nn
    import torchvision.models as models


    class ImageEncoder(nn.Module):
        def __init__(self, size):
            super().__init__()
            resnet = models.resnet18(weights="DEFAULT")
            for param in resnet.parameters():
                param.requires_grad = False
            self.resnet = nn.Sequential(*list(resnet.children())[:-1])
            self.fc = nn.Linear(512, size)

        def forward(self, images):
            return self.fc(self.resnet(images).flatten(1))
"""

CAPTIONS = """\
    import torch
    from image_encoder import ImageEncoder


    def train_model(encoder, optimizer, loader):
        for x, y in loader:
            loss = torch.nn.functional.mse_loss(encoder(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


    encoder = ImageEncoder(256)
    for param in encoder.resnet[-2:].parameters():
        param.requires_grad = True
    optimizer = torch.optim.Adam([{"params": encoder.fc.parameters()},
                                  {"params": encoder.resnet[-2:].parameters(), "lr": 5e-5}])
    train_model(encoder, optimizer, [])
"""


def test_a_part_made_trainable_by_a_negative_slice_is_named(tmp_path: Path) -> None:
    # (round 76/b, MedCaptions: the last two children of the trunk trained again)
    write_project(tmp_path, {"image_encoder.py": ENCODER, "train.py": CAPTIONS})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 13)
    assert ("returns it with its parameters frozen (`encoder.resnet[-2:]` trainable again; the rest stays frozen), "
            "but nothing puts it in eval mode") in finding.message


FIT = """\
    import torch


    def fit_one_epoch(model_train, teacher, optimizer, loader):
        model_train.train()
        for images, targets in loader:
            with torch.no_grad():
                soft = teacher(images)
            loss = torch.nn.functional.mse_loss(model_train(images), soft)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
"""

DISTILL = """\
    import torch
    import torch.nn as nn
    import torch.optim as optim
    from fit import fit_one_epoch


    def detector():
        return nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.SiLU(), nn.Conv2d(16, 8, 1))


    model = detector()
    t_model = detector()
    t_model.load_state_dict(torch.load("teacher.pth"))
    pg0, pg1, pg2 = [], [], []
    for k, v in model.named_modules():
        if hasattr(v, "bias") and isinstance(v.bias, nn.Parameter):
            pg2.append(v.bias)
        if isinstance(v, nn.BatchNorm2d):
            pg0.append(v.weight)
        elif hasattr(v, "weight") and isinstance(v.weight, nn.Parameter):
            pg1.append(v.weight)
    optimizer = optim.SGD(pg0, 0.01, momentum=0.937, nesterov=True)
    optimizer.add_param_group({{"params": pg1, "weight_decay": 5e-4}})
    optimizer.add_param_group({{"params": pg2}})
    model_train = model.train()
    t_model_train = t_model.train(){evaluated}
    t_model_train = torch.nn.DataParallel(t_model)
    for epoch in range(300):
        fit_one_epoch(model_train, t_model_train, optimizer, [])
"""


def test_a_distillation_teacher_set_to_train_mode_under_a_second_name_is_reported(tmp_path: Path) -> None:
    # (round 76/c, PDIKD and UAV-LODBoost: YOLO's three parameter groups take the student only, and the
    # teacher, t_model_train = t_model.train(), runs without gradients in a helper every batch)
    write_project(tmp_path, {"fit.py": FIT, "distill.py": DISTILL.format(evaluated="")})
    [finding] = lint_in_process(tmp_path / "distill.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 29)
    assert finding.message.startswith("`t_model_train` has BatchNorm layers and `fit_one_epoch` (fit.py:8) runs it "
                                      "under torch.no_grad() and no optimiser takes its parameters, but "
                                      "`t_model.train()` on line 26 puts it back in train mode")


def test_a_distillation_teacher_put_in_eval_mode_after_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"fit.py": FIT, "distill.py": DISTILL.format(evaluated="\nt_model.eval()")})
    assert lint_in_process(tmp_path / "distill.py", "GL406") == []


EXPERIMENTS = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    def train_model(model, optimizer, epochs=5):
        for epoch in range(epochs):
            model.train()
            for x, y in []:
                loss = nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        return model


    model = models.resnet18(weights="DEFAULT")
    model.fc = nn.Linear(512, 6)
    for param in model.parameters():
        param.requires_grad = False
    for param in model.fc.parameters():
        param.requires_grad = True
    model = train_model(model, torch.optim.SGD(model.fc.parameters(), lr=0.001))

    model = models.resnet18(weights="DEFAULT")
    model.fc = nn.Linear(512, 6)
    for param in model.parameters():
        param.requires_grad = True
    model = train_model(model, torch.optim.SGD(model.parameters(), lr=0.001))

    model = models.resnet18(weights="DEFAULT")
    model.fc = nn.Linear(512, 6)
    for param in model.parameters():
        param.requires_grad = False
    for param in model.fc.parameters():
        param.requires_grad = True
    model = train_model(model, torch.optim.SGD(model.fc.parameters(), lr=0.001))
"""


def test_a_head_only_run_after_a_full_fine_tuning_cell_is_reported_too(tmp_path: Path) -> None:
    # (round 76/a, Waelalessa21: the notebook repeats its head-only run on a second dataset; the
    # full fine-tuning cell before it made the name trainable, not the model frozen after it)
    write_project(tmp_path, {"experiments.py": EXPERIMENTS})
    findings = lint_in_process(tmp_path / "experiments.py", "GL406")
    assert [(f.code, f.line) for f in findings] == [("GL406", 20), ("GL406", 34)]
