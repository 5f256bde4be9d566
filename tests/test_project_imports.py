"""One map of the project modules a file imports (``source/project_functions.py``), shared by
GL215's and GL406's cross-module readers: submodules imported from a package
(``from models import resnet_ft``) and imports inside ``if __name__ == "__main__":`` or a
function count, as in the held-out round-8 repository that builds its frozen ResNet with
``resnet50_finetune.get_model()`` under the main guard."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import lint_in_process, write_project

from gradlint.source.project_functions import project_import_list

FACTORY = """\
    from torchvision.models import resnet50
    import torch.nn as nn

    def get_model(num_classes=43, finetune=False):
        model = resnet50(weights="DEFAULT")
        if not finetune:
            for param in model.parameters():
                param.requires_grad = False
        model.fc = nn.Linear(model.fc.in_features, num_classes)
        return model
"""

TRAIN_UNDER_MAIN = """\
    import torch
    import torch.nn.functional as F

    def fit(model, loader):
        optimizer = torch.optim.Adam(model.parameters())
        for epoch in range(3):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                F.cross_entropy(model(x), y).backward()
                optimizer.step()

    if __name__ == "__main__":
        from models import resnet_ft
        model = resnet_ft.get_model({finetune})
        fit(model, [])
"""


def _imports(folder: Path, name: str) -> dict[str, tuple[str, str]]:
    path = folder / name
    return {item.local: (item.path.relative_to(folder.resolve()).as_posix(), item.name)
            for item in project_import_list(ast.parse(path.read_text()), path)}


def test_a_submodule_of_a_plain_package_is_the_module_itself(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/resnet_ft.py": FACTORY, "models/helpers.py": "def scale(): ...\n",
                             "train.py": "from models import resnet_ft, helpers as h\nimport models.helpers\n"})
    assert _imports(tmp_path, "train.py") == {"resnet_ft": ("models/resnet_ft.py", "."),
                                              "h": ("models/helpers.py", "."),
                                              "models.helpers": ("models/helpers.py", ".")}


def test_a_name_the_package_init_defines_is_that_name_not_the_submodule(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/__init__.py": "from .resnet_ft import get_model as resnet_ft\n",
                             "models/resnet_ft.py": FACTORY, "models/other.py": "",
                             "train.py": "from models import resnet_ft, other\n"})
    assert _imports(tmp_path, "train.py") == {"resnet_ft": ("models/resnet_ft.py", "get_model"),
                                              "other": ("models/other.py", ".")}


def test_imports_under_the_main_guard_and_in_functions_count_module_level_first(tmp_path: Path) -> None:
    write_project(tmp_path, {"a.py": "", "b.py": "",
                             "train.py": """\
                                 import a as mod

                                 def main():
                                     import b as mod
                                     import b

                                 if __name__ == "__main__":
                                     from a import thing
                             """})
    assert _imports(tmp_path, "train.py") == {"mod": ("a.py", "."), "b": ("b.py", "."), "thing": ("a.py", "thing")}


def test_gl406_follows_a_factory_module_imported_from_a_package_under_the_main_guard(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/resnet_ft.py": FACTORY, "train.py": TRAIN_UNDER_MAIN.format(finetune="")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 15)
    assert "`get_model` (models/resnet_ft.py:7) returns it with its parameters frozen" in finding.message
    assert "`model.train()` on line 7" in finding.message


def test_gl406_is_silent_when_the_call_turns_the_freeze_off(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/resnet_ft.py": FACTORY,
                             "train.py": TRAIN_UNDER_MAIN.format(finetune="finetune=True")})
    assert lint_in_process(tmp_path / "train.py", "GL406") == []


def test_gl215_reads_a_model_class_from_a_package_submodule_imported_in_a_function(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets/classifier.py": """\
                                 import torch.nn as nn

                                 class Net(nn.Module):
                                     def __init__(self):
                                         super().__init__()
                                         self.fc = nn.Linear(10, 3)

                                     def forward(self, x):
                                         return nn.functional.softmax(self.fc(x), dim=1)
                             """,
                             "train.py": """\
                                 import torch
                                 import torch.nn as nn

                                 def main():
                                     from nets import classifier
                                     model = classifier.Net()
                                     criterion = nn.CrossEntropyLoss()
                                     optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
                                     for x, y in []:
                                         optimizer.zero_grad()
                                         loss = criterion(model(x), y)
                                         loss.backward()
                                         optimizer.step()
                             """})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 11)
    assert "Net's output (nets/classifier.py:9) is softmax probabilities" in finding.message


def test_a_name_a_package_init_reexports_is_read_where_it_is_defined(tmp_path: Path) -> None:
    write_project(tmp_path, {"models/__init__.py": "from .encoders import Encoder as Enc\nfrom .heads import *\n",
                             "models/encoders.py": "class Encoder: ...\n", "models/heads.py": "def head(): ...\n",
                             "train.py": "from models import Enc, head, missing\n"})
    assert _imports(tmp_path, "train.py") == {"Enc": ("models/encoders.py", "Encoder"),
                                              "head": ("models/heads.py", "head"),
                                              "missing": ("models/__init__.py", "missing")}


def test_a_dotted_import_naming_the_scripts_own_folders_is_found_however_deep(tmp_path: Path) -> None:
    # held-out round 11 (byougert): pytorch/tutorial/vision/transfer/main.py imports
    # ``from pytorch.tutorial.vision.transfer.model import train``, run from the repository root
    write_project(tmp_path, {"pytorch/tutorial/vision/transfer/model.py": "def train(model): ...\n",
                             "pytorch/tutorial/vision/transfer/main.py":
                                 "from pytorch.tutorial.vision.transfer.model import train\nfrom elsewhere.model import x\n"})
    assert _imports(tmp_path, "pytorch/tutorial/vision/transfer/main.py") == {
        "train": ("pytorch/tutorial/vision/transfer/model.py", "train")}


def test_a_package_installed_from_a_folder_of_the_repository_is_found_beside_it(tmp_path: Path) -> None:
    # held-out round 37 (AlbertoSaretto): ``MGR/setup.py`` installs ``MGR/mgr/``; the scripts in
    # ``CNN2D/`` import ``mgr.models``. A folder without setup.py or pyproject.toml is not a package root
    write_project(tmp_path, {"MGR/setup.py": "from setuptools import setup\nsetup(name='mgr')\n",
                             "MGR/mgr/__init__.py": "", "MGR/mgr/models.py": "class Net: ...\n",
                             "Other/lib/__init__.py": "", "Other/lib/tools.py": "def fit(model): ...\n",
                             "CNN2D/train.py": "from mgr.models import Net\nfrom lib.tools import fit\n"})
    assert _imports(tmp_path, "CNN2D/train.py") == {"Net": ("MGR/mgr/models.py", "Net")}


def test_a_folder_the_script_puts_on_sys_path_is_searched(tmp_path: Path) -> None:
    # held-out round 38 (sagecodes): ``sys.path.insert(0, './models')`` then ``from resnet50 import ...``
    write_project(tmp_path, {"models/resnet50.py": "class Net: ...\n", "helpers/tools.py": "def fit(model): ...\n",
                             "train.py": "import sys\nsys.path.insert(0, './models')\nsys.path.append('helpers')\n"
                                         "from resnet50 import Net\nfrom tools import fit\nfrom elsewhere import thing\n"})
    assert _imports(tmp_path, "train.py") == {"Net": ("models/resnet50.py", "Net"), "fit": ("helpers/tools.py", "fit")}


def test_a_repository_that_is_its_own_package_cloned_under_another_name(tmp_path: Path) -> None:
    # held-out round 83/a: ``from vetro.models.feature_extractor import ...`` in a repository whose
    # root is the ``vetro`` package; a library's subpackage of the same name is never the project's
    write_project(tmp_path, {"models/__init__.py": "", "models/feature_extractor.py": FACTORY,
                             "train.py": "from vetro.models.feature_extractor import get_model\n"
                                         "from torchvision.models.feature_extractor import create\n"
                                         "from vetro.unknown.feature_extractor import other\n"})
    assert _imports(tmp_path, "train.py") == {"get_model": ("models/feature_extractor.py", "get_model")}
