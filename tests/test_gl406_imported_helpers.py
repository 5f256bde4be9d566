"""GL406 through freezing helpers of another project module: ``freeze_backbone(model)``
imported from ``model.py``, and ``model.freeze_backbone()``, a method of an imported model
class. Held-out round 10 (/work/heldout32, a plant-disease EfficientNet project) shaped them:
its three training scripts freeze the backbone both ways and train with ``model.train()``."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

HELPERS = """\
    import torch.nn as nn
    from torchvision.models import efficientnet_b0


    def create_model(num_classes):
        model = efficientnet_b0(weights=None)
        model.classifier[-1] = nn.Linear(1280, num_classes)
        return model


    def freeze_backbone(model, frozen=True):
        if frozen:
            for parameter in model.features.parameters():
                parameter.requires_grad = False


    class PlantNet(nn.Module):
        def __init__(self, num_classes):
            super().__init__()
            self.net = create_model(num_classes)

        def forward(self, x):
            return self.net(x)

        def freeze_backbone(self):
            for parameter in self.net.features.parameters():
                parameter.requires_grad = False

        def unfreeze_all(self):  # another method: the script decides whether it runs
            for parameter in self.net.parameters():
                parameter.requires_grad = True
"""

SCRIPT = """\
    import torch
    {imports}


    def run_epoch(model, loader, optimizer):
        model.train()
        {restore}
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()


    def main():
        model = {build}
        {freeze}
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad])
        for epoch in range(3):
            run_epoch(model, [], optimizer)
"""


def _lint(tmp_path: Path, imports: str, build: str, freeze: str, restore: str = "pass") -> list:
    write_project(tmp_path, {"model.py": HELPERS, "train.py": SCRIPT.format(
        imports=imports, build=build, freeze=freeze, restore=restore)})
    return lint_in_process(tmp_path / "train.py", "GL406")


def test_an_imported_helper_that_freezes_the_model_it_is_handed(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "from model import create_model, freeze_backbone", "create_model(5)",
                      "freeze_backbone(model)")
    assert (finding.code, finding.line) == ("GL406", 16)
    assert finding.message.startswith("`model.features` has BatchNorm layers and `freeze_backbone` (model.py:13) "
                                      "freezes its parameters here, but `model.train()` on line 6")


def test_a_helper_of_an_imported_module_spelled_through_the_module(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "import model as zoo", "zoo.create_model(5)", "zoo.freeze_backbone(model)")
    assert (finding.code, finding.line) == ("GL406", 16)


def test_a_helper_told_not_to_freeze_or_a_part_put_back_in_eval_is_quiet(tmp_path: Path) -> None:
    imports = "from model import create_model, freeze_backbone"
    assert _lint(tmp_path, imports, "create_model(5)", "freeze_backbone(model, frozen=False)") == []
    assert _lint(tmp_path, imports, "create_model(5)", "freeze_backbone(model)", restore="model.features.eval()") == []


def test_a_method_of_an_imported_model_class_that_freezes_its_own_part(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "from model import PlantNet", "PlantNet(5)", "model.freeze_backbone()")
    assert (finding.code, finding.line) == ("GL406", 16)
    assert "`model.net.features` has BatchNorm layers and `PlantNet.freeze_backbone` (model.py:26)" in finding.message
    assert _lint(tmp_path, "from model import PlantNet", "PlantNet(5)", "model.freeze_backbone(); model.unfreeze_all()") == []


def test_the_same_method_name_on_another_object_is_not_that_method(tmp_path: Path) -> None:
    assert _lint(tmp_path, "from model import PlantNet, create_model", "create_model(5)",
                 "trainer = object(); trainer.freeze_backbone()") == []
