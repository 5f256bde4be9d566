"""GL215 shapes of held-out round 66 (``bench/heldout/round66``), in our own words: a text
classifier built from a whole settings dict (``TextCNN(**params)``), its constructor reading
only ``kwargs[...]``, its forward ending in ``nn.Softmax`` and trained with CrossEntropyLoss
(66/c)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import lint_in_process, write_project

NET = """\
    import torch.nn as nn


    class Classifier(nn.Module):
        def __init__(self, {signature}):
            super().__init__()
            self.fc = nn.Linear({width}, 4)
            self.out = nn.Softmax(dim=1)
            {keep}

        def forward(self, x):
            {forward}
"""

TRAIN = """\
    import torch
    import torch.nn as nn
    from net import Classifier


    def train(params, batches):
        model = Classifier(**params)
        criterion = nn.CrossEntropyLoss()
        opt = torch.optim.Adadelta(model.parameters())
        for x, y in batches:
            loss = criterion(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
"""

PLAIN = ("**kwargs", 'kwargs["WIDTH"]', "pass", "return self.out(self.fc(x))")
# a constructor flag decides the ending: what **params holds for it is not seen
FLAGGED = ("width=8, probabilities=True", "width", "self.probabilities = probabilities",
           "x = self.fc(x)\n            if self.probabilities:\n                x = self.out(x)\n            return x")


@pytest.mark.parametrize(("shape", "expected"), [(PLAIN, [("GL215", 11)]), (FLAGGED, [])])
def test_a_model_built_from_an_unpacked_settings_dict(tmp_path: Path, shape: tuple, expected: list) -> None:
    signature, width, keep, forward = shape
    write_project(tmp_path, {"net.py": NET.format(signature=signature, width=width, keep=keep, forward=forward),
                             "train.py": TRAIN})
    findings = lint_in_process(tmp_path / "train.py", "GL215")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("Classifier's output" in f.message and "softmax probabilities" in f.message for f in findings)


FACTORY = """\
    import timm
    import torch.nn as nn


    def gesture_net(num_classes, softmax=True):
        layers = [timm.create_model("mobilenetv3_small_100"), nn.Linear(1000, 64), nn.ReLU(), nn.Linear(64, num_classes)]
        {append}
        net = nn.Sequential(*layers)
        return net
"""

FIT = """\
    import torch
    import torch.nn as nn
    from nets import gesture_net


    def fit(batches):
        model = gesture_net({args})
        criterion = nn.CrossEntropyLoss()
        opt = torch.optim.Adam(model.parameters())
        for x, y in batches:
            loss = criterion(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
"""

GUARDED = "if softmax:\n            layers.append(nn.Softmax(dim=-1))"


@pytest.mark.parametrize(("append", "args", "expected", "note"), [
    (GUARDED, "14", [("GL215", 11)], "built with `softmax` at its default, True"),
    (GUARDED, "14, softmax=True", [("GL215", 11)], "built with `softmax` at its default, True"),
    (GUARDED, "14, softmax=False", [], ""),  # logits, for a loss of its own
    (GUARDED, "14, False", [], ""),
    ("layers.append(nn.Softmax(dim=-1))", "14, softmax=False", [("GL215", 11)], "nets.py:7"),  # the flag changes nothing
    ("if not softmax:\n            layers.append(nn.Softmax(dim=-1))", "14", [], ""),  # (not read: the default is off)
])
def test_a_project_factory_appending_softmax_to_its_sequential_under_a_flag(
        tmp_path: Path, append: str, args: str, expected: list, note: str) -> None:
    """66/a's gesture recogniser: ``get_mobilenet(num_classes, softmax=True)`` appends
    ``nn.Softmax`` to the list it makes ``nn.Sequential(*modules)`` of; the training script
    builds it with the default and trains with CrossEntropyLoss."""
    write_project(tmp_path, {"nets.py": FACTORY.format(append=append), "fit.py": FIT.format(args=args)})
    findings = lint_in_process(tmp_path / "fit.py", "GL215")
    assert [(f.code, f.line) for f in findings] == expected
    assert all("gesture_net's output" in f.message and note in f.message and "can build" not in f.message
               for f in findings)
