"""GL215 shapes of held-out round 78 (``bench/heldout/round78``), in our own words: a
factory that adds a softmax to a torchvision SqueezeNet's classifier with ``add_module``, the
model then trained with ``CrossEntropyLoss`` by a helper of another module; a graph network
whose node probabilities are averaged over the nodes, trained through the step a
``make_train_step`` closure factory returns."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

FACTORY = """\
import torch.nn as nn
import torchvision.models as models


def create_model(num_classes):
    model = models.squeezenet1_0(weights="IMAGENET1K_V1")
    model.classifier[1] = nn.Conv2d(512, num_classes, kernel_size=1)
    model.classifier.add_module("activation", {added})
    return model
"""

TRAIN = """\
import torch
import torch.nn as nn


def train_model(model, loader, epochs=50):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        for inputs, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
    return model
"""

MAIN = """\
from model import create_model
from train import train_model

model = create_model(10)
model = train_model(model, [])
"""


def test_a_softmax_added_to_a_squeezenet_classifier_feeds_cross_entropy(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": FACTORY.format(added="nn.Softmax(dim=1)"), "train.py": TRAIN, "main.py": MAIN})
    [finding] = lint_in_process(tmp_path / "main.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 5)
    assert finding.message.startswith("create_model's output (model.py:8) is softmax probabilities, and this line hands "
                                      "it to `train_model` (train.py:12), which feeds it to CrossEntropyLoss")


def test_a_softmax_added_to_a_head_that_never_runs_it_ends_nothing(tmp_path: Path) -> None:
    # a ResNet's ``fc`` is one Linear (an added child is never called); ``"1"`` replaces a child in place
    linear = FACTORY.format(added="nn.Softmax(dim=1)").replace("squeezenet1_0", "resnet18").replace(
        "model.classifier[1] = nn.Conv2d(512, num_classes, kernel_size=1)", "model.fc = nn.Linear(512, num_classes)"
    ).replace("model.classifier.add_module", "model.fc.add_module")
    replaced = FACTORY.format(added="nn.Softmax(dim=1)").replace('"activation"', '"1"')
    write_project(tmp_path, {"model.py": linear, "train.py": TRAIN, "main.py": MAIN,
                             "other/model.py": replaced, "other/train.py": TRAIN, "other/main.py": MAIN})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []
    assert lint_in_process(tmp_path / "other" / "main.py", "GL215") == []


def test_another_layer_added_last_ends_in_no_activation(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": FACTORY.format(added="nn.Flatten()"), "train.py": TRAIN, "main.py": MAIN})
    assert lint_in_process(tmp_path / "main.py", "GL215") == []


GRAPH = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class GraphClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(10, 2)

    def forward(self, adj, h):
        node_logits = self.dense(adj @ h)
        node_probs = F.softmax(node_logits, -1)
        graph_probs = node_probs.mean({axis})
        return graph_probs


def make_train_step(model, loss_fn, optimizer):
    def train_step(adj, h, y):
        model.train()
        yhat = model(adj, h)
        loss = loss_fn(yhat, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()
    return train_step


net = GraphClassifier()
train_step = make_train_step(net, nn.CrossEntropyLoss(), torch.optim.Adam(net.parameters()))
for adj, h, y in []:
    train_step(adj, h, y)
"""


def test_node_probabilities_averaged_over_nodes_fed_to_cross_entropy_by_a_returned_step(tmp_path: Path) -> None:
    write_project(tmp_path, {"graph.py": GRAPH.format(axis="-2"), "over_classes.py": GRAPH.format(axis="-1")})
    [finding] = lint_in_process(tmp_path / "graph.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 22)
    assert finding.message.startswith("GraphClassifier's output (line 13) is softmax probabilities, and line 31 hands "
                                      "it to `make_train_step`, and this line feeds it to CrossEntropyLoss")
    # averaged over the class axis itself, it is no longer a distribution over the classes
    assert lint_in_process(tmp_path / "over_classes.py", "GL215") == []
