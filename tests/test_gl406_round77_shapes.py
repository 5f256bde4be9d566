"""GL406 shapes of held-out round 77 (``bench/heldout/round77``), in our own words: a
notebook that trains under ``%time``, a two-phase run whose second model a registry factory
builds unfrozen through ``**kwargs``, and a frozen model reaching ``model.train()`` through a
helper's helper."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import lint_in_process, write_project

TIMED_CELLS = [
    "import torch\nimport torch.nn as nn\nfrom torchvision import models\n",
    "model_ft = models.resnet50(weights=\"DEFAULT\")\nfor param in model_ft.parameters():\n"
    "    param.requires_grad = False\nmodel_ft.fc = nn.Linear(2048, 120)\n"
    "optimizer = torch.optim.Adam(model_ft.fc.parameters(), lr=0.001)\n",
    "def train(model, loader):\n    model.train()\n    for x, y in loader:\n        optimizer.zero_grad()\n"
    "        nn.functional.cross_entropy(model(x), y).backward()\n        optimizer.step()\n",
    "for epoch in range(1, 10):\n    {magic}train(model=model_ft, loader=[])\n",
]


def _notebook(cells: list[str]) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                  "source": cell.splitlines(keepends=True)} for cell in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def test_a_training_call_timed_by_a_line_magic_still_runs(tmp_path: Path) -> None:
    # (round 77/b, the PyTorch handbook's fine-tuning notebook: ``%time train(model=model_ft, ...)``)
    for name, magic in (("timed.ipynb", "%time "), ("plain.ipynb", "")):
        (tmp_path / name).write_text(_notebook([cell.replace("{magic}", magic) for cell in TIMED_CELLS]))
        [finding] = lint_in_process(tmp_path / name, "GL406")
        assert finding.code == "GL406" and "`model.train()` in cell 3, line 2 (`model` is `model_ft` there)" \
            in finding.message, name


def test_a_timed_statement_in_a_script_exported_from_a_notebook_is_read(tmp_path: Path) -> None:
    script = "".join(TIMED_CELLS).replace("{magic}", "%time ")
    write_project(tmp_path, {"export.py": script})
    [finding] = lint_in_process(tmp_path / "export.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 6)


FACTORY = """\
    import torch.nn as nn
    from torchvision import models


    def _freeze(model):
        for param in model.features.parameters():
            param.requires_grad_(False)


    def create_densenet(num_classes=10, freeze_backbone=True):
        model = models.densenet121(weights="DEFAULT")
        if freeze_backbone:
            _freeze(model)
        model.classifier = nn.Linear(1024, num_classes)
        return model


    REGISTRY = {"densenet": create_densenet}


    def create_model(name, **kwargs):
        return REGISTRY[name](**kwargs)
"""

PHASES = """\
    import torch
    from factory import create_model


    def train_model(model, epochs):
        optimizer = torch.optim.Adam(p for p in model.parameters() if p.requires_grad)
        for epoch in range(epochs):
            model.train()
            for x, y in []:
                loss = torch.nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        torch.save(model.state_dict(), "best.pt")


    def main():
        model = create_model("densenet", num_classes=10, freeze_backbone=True)
        train_model(model, 10)
        model = create_model("densenet", num_classes=10, freeze_backbone=False)
        {load}
        train_model(model, 30)


    main()
"""


def test_a_phase_two_model_built_unfrozen_through_kwargs_makes_phase_one_a_warm_up(tmp_path: Path) -> None:
    # (round 77/c's look-alike, AhmetServet's EuroSAT runs: phase 1 head-only, phase 2 loads it and fine-tunes)
    write_project(tmp_path, {"factory.py": FACTORY,
                             "train.py": PHASES.format(load='model.load_state_dict(torch.load("best.pt"))')})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_a_phase_one_model_a_second_experiment_does_not_fine_tune_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"factory.py": FACTORY, "train.py": PHASES.format(load="pass")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 18)


HELPERS = """\
    import torch
    import torch.nn as nn
    from torchvision import models


    def train_model(model, loader, optimizer):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            nn.functional.binary_cross_entropy_with_logits(model(x), y).backward()
            optimizer.step()


    def validate_model(model, loader):
        model.eval()
        with torch.no_grad():
            return [model(x) for x, _ in loader]


    def train_and_evaluate(model, train_loader, val_loader, optimizer, epochs=10):
        for epoch in range(epochs):
            train_model(model, train_loader, optimizer)
            validate_model(model, val_loader)


    pretrained = models.resnet50(weights="DEFAULT")
    for param in pretrained.parameters():
        param.requires_grad = False
    pretrained.fc = nn.Linear(2048, 80)
    optimizer = torch.optim.Adam(pretrained.fc.parameters(), lr=0.001)
    train_and_evaluate(pretrained, [], [], optimizer)
"""


def test_a_frozen_model_trained_through_a_helpers_helper_is_reported(tmp_path: Path) -> None:
    # (round 77/c, the COCO multi-label notebook: train_and_evaluate -> train_model -> model.train())
    write_project(tmp_path, {"coco.py": HELPERS})
    [finding] = lint_in_process(tmp_path / "coco.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 28)
    assert "`model.train()` on line 7 (`model` is `pretrained` there)" in finding.message
