"""A finding's other places (``Finding.related``): GL406 names where the frozen module is put
back in train mode, the freeze a helper of another module makes, the model keeping what was
frozen and where a frozen phase ends, GL215 the activation the
model's output ends in. JSON carries them as ``related``, SARIF as ``relatedLocations``, the
editor as related information; the cache keeps them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import run_gradlint, write_project
from gradlint.cache import finding_from_dict, finding_to_dict
from gradlint.findings import Finding, Related, Severity

MODEL = """\
    from torch import nn
    from torchvision import models


    def frozen_resnet(classes):
        net = models.resnet18(weights=None)
        for weight in net.parameters():
            weight.requires_grad = False
        net.fc = nn.Linear(512, classes)
        return net


    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(8, 4)

        def forward(self, x):
            return self.body(x).softmax(dim=1)
"""

TRAIN = """\
    import torch
    from torch import nn

    from model import Classifier, frozen_resnet

    net = frozen_resnet(10)
    optimizer = torch.optim.SGD(net.fc.parameters(), lr=0.1)
    classifier = Classifier()
    criterion = nn.CrossEntropyLoss()
    for epoch in range(3):
        net.train()
        for x, y in []:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(x), y) + criterion(classifier(x), y)
            loss.backward()
            optimizer.step()
"""


def _project(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": MODEL, "train.py": TRAIN})


def test_json_names_each_findings_other_places(tmp_path: Path) -> None:
    _project(tmp_path)
    done = run_gradlint("check", "--no-exec", "--select", "GL406,GL215", "--output-format", "json", "train.py",
                        cwd=tmp_path)
    findings = {f["code"]: f for f in json.loads(done.stdout)["findings"]}
    assert findings["GL406"]["line"] == 6
    assert findings["GL406"]["related"] == [
        {"path": "train.py", "line": 11, "message": "`net.train()` puts it back in train mode"},
        {"path": "model.py", "line": 7, "message": "the freeze, in `frozen_resnet`"},  # (its loop)
    ]
    assert findings["GL215"]["line"] == 14
    assert findings["GL215"]["related"] == [
        {"path": "model.py", "line": 19, "message": "the softmax the model's output ends in"}]


def test_sarif_carries_them_as_related_locations(tmp_path: Path) -> None:
    _project(tmp_path)
    done = run_gradlint("check", "--no-exec", "--select", "GL406", "--output-format", "sarif", "train.py",
                        cwd=tmp_path)
    [result] = json.loads(done.stdout)["runs"][0]["results"]
    places = [(r["id"], r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"],
               r["message"]["text"]) for r in result["relatedLocations"]]
    assert places == [(1, "train.py", 11, "`net.train()` puts it back in train mode"),
                      (2, "model.py", 7, "the freeze, in `frozen_resnet`")]


def test_a_finding_without_other_places_has_no_related_key(tmp_path: Path) -> None:
    write_project(tmp_path, {"net.py": "import torch.nn as nn\n\nnorm = nn.BatchNorm2d(64, 0.8)\n"})
    done = run_gradlint("check", "--no-exec", "--select", "GL107", "--output-format", "json", "net.py", cwd=tmp_path)
    [finding] = json.loads(done.stdout)["findings"]
    assert "related" not in finding


def test_the_cache_keeps_them() -> None:
    finding = Finding("GL406", "frozen-norm-in-train-mode", Severity.WARNING, "train.py", 6, 1, 6, 10, "frozen",
                      related=(Related(11, "put back in train mode"), Related(8, "the freeze", "model.py")))
    assert finding_from_dict(json.loads(json.dumps(finding_to_dict(finding)))) == finding


def test_the_editor_shows_them_as_related_information(tmp_path: Path) -> None:
    pytest.importorskip("pygls")
    from pygls.workspace import TextDocument

    from gradlint.server.convert import to_diagnostic

    text = textwrap.dedent(TRAIN)
    (tmp_path / "train.py").write_text(text)
    document = TextDocument((tmp_path / "train.py").as_uri(), text)
    finding = Finding("GL406", "frozen-norm-in-train-mode", Severity.WARNING, str(tmp_path / "train.py"), 6, 1, 6, 10,
                      "frozen", related=(Related(11, "put back in train mode", str(tmp_path / "train.py")),
                                         Related(8, "the freeze", str(tmp_path / "model.py"))))
    here, there = to_diagnostic(document, finding).related_information or []
    assert (here.location.uri, here.location.range.start.line, here.location.range.end.character) == (
        document.uri, 10, len("    net.train()"))
    assert (there.location.uri, there.location.range.start.line, there.message) == (
        (tmp_path / "model.py").as_uri(), 7, "the freeze")


HELD_AND_PHASED = """\
    import torch
    from torch import nn
    from torchvision import models


    class Captioner(nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder
            self.decoder = nn.LSTM(512, 256)


    encoder = models.resnet18(weights=None)
    for weight in encoder.parameters():
        weight.requires_grad = False
    model = Captioner(encoder)
    optimizer = torch.optim.Adam(model.decoder.parameters())
    for epoch in range(30):
        if epoch == 15:
            for weight in encoder.parameters():
                weight.requires_grad = True
        model.train()
        for x, y in []:
            optimizer.zero_grad()
            model(x).sum().backward()
            optimizer.step()
"""


def test_gl406_names_the_holder_and_the_end_of_a_frozen_phase(tmp_path: Path) -> None:
    write_project(tmp_path, {"caption.py": HELD_AND_PHASED})
    done = run_gradlint("check", "--no-exec", "--select", "GL406", "--output-format", "json", "caption.py",
                        cwd=tmp_path)
    [finding] = json.loads(done.stdout)["findings"]
    assert finding["line"] == 15
    assert "which `model` holds (line 16)" in finding["message"] and "before line 20" in finding["message"]
    assert finding["related"] == [
        {"path": "caption.py", "line": 22, "message": "`model.train()` puts it back in train mode"},
        {"path": "caption.py", "line": 16, "message": "`encoder` is kept here by the model that is trained"},
        {"path": "caption.py", "line": 20, "message": "made trainable again here, after the frozen epochs"},
    ]
