"""GL406 for a frozen backbone nobody puts in eval mode that a helper runs: the script
builds it (with a project class that freezes itself) and hands it to a function, or a
method chain, that only runs it. Held-out round 6 (/work/heldout24, a detection project
precomputing features) showed the shape; the projects here are our own."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

BACKBONE = """\
    from torch import nn
    from torchvision.models import resnet50


    class Trunk(nn.Sequential):
        def __init__(self):
            super().__init__()
            for layer in list(resnet50(weights=None).children())[:-2]:
                self.append(layer)
            for p in self.parameters():
                p.requires_grad = False
"""

FEATURES = """\
    def precompute(trunk, dataset):
        out = []
        for image, target in dataset:
            out.append((trunk(image), target))
        return out


    def precompute_in_eval(trunk, dataset):
        trunk.eval()
        return [(trunk(image), target) for image, target in dataset]


    def keep(trunk, store):
        store.append(trunk)
"""

SCRIPT = """\
    import torch
    from backbone import Trunk
    from features import {helper}

    trunk = Trunk()
    rows = {helper}(trunk, [])
    head = torch.nn.Linear(2048, 5)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
    for feats, y in rows:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(head(feats.mean((2, 3))), y).backward()
        optimizer.step()
"""


def test_a_frozen_trunk_handed_to_a_helper_that_runs_it_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"backbone.py": BACKBONE, "features.py": FEATURES,
                      "train.py": SCRIPT.format(helper="precompute")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 5)
    assert "nothing puts it in eval mode" in finding.message
    assert "handing it on line 6 to `precompute` (features.py:4), which runs it" in finding.message


def test_a_helper_that_puts_it_in_eval_mode_or_keeps_it_is_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"backbone.py": BACKBONE, "features.py": FEATURES,
                      "train.py": SCRIPT.format(helper="precompute_in_eval"),
                      "keep.py": SCRIPT.format(helper="keep")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []
    assert lint_in_process(tmp_path / "keep.py", "GL406") == []


def test_a_class_that_puts_itself_in_eval_mode_is_not_reported(tmp_path: Path) -> None:
    evaluating = BACKBONE + "        self.eval()\n"
    write_project(tmp_path, {"backbone.py": evaluating, "features.py": FEATURES,
                      "train.py": SCRIPT.format(helper="precompute")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


HEAD = """\
    import torch
    from torch import nn
    from backbone import Trunk


    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2048, 5)

        def forward(self, feats):
            return self.fc(feats.mean((2, 3)))

        def fit(self, loader, epochs):
            trunk = None
            if USE_TRUNK:
                trunk = Trunk()
            for epoch in range(epochs):
                self.train(True)
                self.one_epoch(loader, trunk=trunk)
                self.eval()

        def one_epoch(self, loader, trunk=None):
            optimizer = torch.optim.Adam(self.parameters())
            for batch in loader:
                optimizer.zero_grad()
                loss = self.step(batch, trunk)
                loss.backward()
                optimizer.step()

        def step(self, batch, trunk):
            images, labels = batch
            if trunk is not None:
                images = trunk(images)
            return nn.functional.cross_entropy(self(images), labels)


    USE_TRUNK = True
"""


def test_a_method_chain_that_only_runs_the_trunk_is_followed(tmp_path: Path) -> None:
    write_project(tmp_path, {"backbone.py": BACKBONE, "head.py": HEAD})
    [finding] = lint_in_process(tmp_path / "head.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 17)
    assert "handing it on line 20 to `self.one_epoch` (line 34), which runs it" in finding.message


def test_a_method_that_stores_the_trunk_stops_the_chain(tmp_path: Path) -> None:
    keeping = HEAD.replace("            images, labels = batch\n",
                           "            images, labels = batch\n            self.kept = trunk\n")
    write_project(tmp_path, {"backbone.py": BACKBONE, "head.py": keeping})
    assert lint_in_process(tmp_path / "head.py", "GL406") == []


def test_a_model_built_in_one_module_frozen_in_another_and_trained_in_a_third(tmp_path: Path) -> None:
    # held-out round 9 (/work/heldout30, a course's lab split into load / freeze / train scripts)
    write_project(tmp_path, {
        "load_model.py": """\
            from torch import hub

            model = hub.load("pytorch/vision", "mobilenet_v3_large", weights=None)
            """,
        "freeze_model.py": """\
            from torch import nn
            from load_model import model

            model.classifier[-1] = nn.Linear(1280, 2)
            for param in model.parameters():
                param.requires_grad = False
            for param in model.classifier[-1].parameters():
                param.requires_grad = True
            """,
        "train.py": """\
            import torch
            from freeze_model import model

            optimizer = torch.optim.SGD(model.classifier[-1].parameters(), lr=0.01)
            for epoch in range(3):
                model.train()
                for x, y in []:
                    optimizer.zero_grad()
                    torch.nn.functional.cross_entropy(model(x), y).backward()
                    optimizer.step()
            """,
    })
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 2)
    assert "it is frozen where it is built (freeze_model.py:5) and imported here" in finding.message
    assert lint_in_process(tmp_path / "freeze_model.py", "GL406") == []  # nothing trains there
