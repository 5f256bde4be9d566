"""GL406 shapes from held-out round 26 (real code, ``bench/heldout/round26``):

- the stem of a torchvision model frozen through a throw-away ``nn.Sequential`` of its
  children (``trunk = nn.Sequential(*list(model.children())[:-3])``), in a project factory
  that returns the model in a tuple (bird-classification course code);
- a class freezing five parts of one backbone one by one: one finding on the backbone, and
  a model built inside ``nn.DataParallel(...)`` (no fix then: the parts sit under ``.module``);
- an evaluation block that calls ``model.eval()`` first inside ``with torch.no_grad():``
  freezes nothing (a false alarm on a remote-sensing script).
"""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

FACTORY = """\
import torch.nn as nn
from torchvision.models import resnet101 as tv_resnet101


def resnet101(nclass=20):
    model = tv_resnet101(weights=None)
    trunk = nn.Sequential(*list(model.children()){sliced})
    for param in trunk.parameters():
        param.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, nclass)
    return model, (224, 224)
"""

SCRIPT = """\
import torch
from nets import resnet101

model, size = resnet101()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
"""


def test_a_stem_frozen_through_a_sequential_of_its_children_is_the_models_stem(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": FACTORY.format(sliced="[:-3]"), "main.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert (finding.code, finding.line) == ("GL406", 4)
    assert "`resnet101` (nets.py:8) returns it with all but its last 3 child modules frozen" in finding.message
    assert "`model.train()` on line 9" in finding.message


def test_the_sequential_used_as_a_model_of_its_own_is_not_the_source_model(tmp_path: Path) -> None:
    # a trunk that is itself run (kept, returned) is the frozen model, not a view of the stem
    factory = FACTORY.format(sliced="[:-1]").replace("    model.fc = nn.Linear(model.fc.in_features, nclass)\n"
                                                      "    return model, (224, 224)\n",
                                                      "    return trunk, (224, 224)\n")
    write_project(tmp_path, {"nets.py": factory, "main.py": SCRIPT})
    assert [f.message for f in lint_in_process(tmp_path / "main.py", "GL406")
            if "child modules frozen" in f.message] == []


def test_a_sequential_of_too_short_a_prefix_freezes_nothing_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"nets.py": FACTORY.format(sliced="[:1]"), "main.py": SCRIPT})
    assert lint_in_process(tmp_path / "main.py", "GL406") == []


SIBLINGS = """\
import torch
import torch.nn as nn
import torchvision.models as models


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.res = models.resnet50(weights=None)
        for param in self.res.conv1.parameters():
            param.requires_grad = False
        for param in self.res.bn1.parameters():
            param.requires_grad = False
        for param in self.res.layer1.parameters():
            param.requires_grad = False
        for param in self.res.layer2.parameters():
            param.requires_grad = False
        self.res.fc = nn.Linear(2048, 20)

    def forward(self, x):
        return self.res(x)


model = {built}
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train(loader):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


def test_sibling_parts_frozen_one_by_one_are_one_finding_on_their_parent(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": SIBLINGS.format(built="Net()")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    # the first of the loops freezing a part with BatchNorm, in the class of this file (a torchvision
    # ResNet's ``conv1`` holds none, so it is not among the layers to put in eval mode)
    assert finding.line == 13
    assert ("`model.res` has BatchNorm layers and `model.res.bn1`, `model.res.layer1` and "
            "`model.res.layer2` are frozen here, but `model.train()` on line 29") in finding.message
    assert "call `.eval()` on the frozen layers" in finding.message


def test_a_model_built_inside_data_parallel_is_the_model_and_gets_no_fix(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": SIBLINGS.format(built="nn.DataParallel(Net())").replace(
        "        for param in self.res.bn1.parameters():\n            param.requires_grad = False\n"
        "        for param in self.res.layer1.parameters():\n            param.requires_grad = False\n"
        "        for param in self.res.layer2.parameters():\n            param.requires_grad = False\n", "").replace(
        "self.res.conv1.parameters()", "self.res.parameters()")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL406")
    assert finding.line == 11 and "`model.res` has BatchNorm layers" in finding.message
    # ``model.res.eval()`` would raise on the wrapper (``model.module.res``): report only
    assert finding.fix is None


EVAL_IN_BLOCK = """\
import torch
from torch import nn
from torchvision import models

net = models.resnet50(weights=None)
for param in net.parameters():
    param.requires_grad = False
net.fc = nn.Linear(2048, 11)
optimizer = torch.optim.Adam(net.fc.parameters())


def train_and_valid(model, optimizer, epochs):
    for epoch in range(epochs):
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        with torch.no_grad():
            model.eval()
            for x, y in []:
                model(x)


train_and_valid(net, optimizer, 25)
"""


def test_an_eval_first_inside_the_no_grad_block_freezes_nothing(tmp_path: Path) -> None:
    write_project(tmp_path, {"main.py": EVAL_IN_BLOCK})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    # the real finding, on the frozen resnet; not one on `model` "run under torch.no_grad()" at line 22
    assert finding.line == 7 and "`net` has BatchNorm layers and its parameters are frozen here" in finding.message


def test_a_parameter_list_sliced_from_zero_is_a_prefix(tmp_path: Path) -> None:
    # ``list(self.model.parameters())[0:100]``: the same first hundred as ``[:100]``
    write_project(tmp_path, {"model.py": """\
        import torch.nn as nn
        from torchvision import models


        class Densenet(nn.Module):
            def __init__(self):
                super().__init__()
                self.model = models.densenet201(weights=None)
                for params in list(self.model.parameters())[0:100]:
                    params.requires_grad = False
                self.model.classifier = nn.Linear(1920, 20)

            def forward(self, x):
                return self.model(x)
        """, "main.py": SCRIPT.replace("from nets import resnet101\n\nmodel, size = resnet101()",
                                       "from model import Densenet\n\nmodel = Densenet()")})
    [finding] = lint_in_process(tmp_path / "main.py", "GL406")
    assert finding.line == 4
    assert "`model.model` has BatchNorm layers and `Densenet` (model.py:9) returns it with its first 100 parameter" in finding.message
