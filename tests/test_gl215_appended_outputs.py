"""GL215 through outputs gathered one sample at a time (held-out round 83/c, in our own words):
a graph model ending in ``nn.Softmax`` is run per sample, each output appended to a list,
the list concatenated with ``torch.cat`` and given to ``CrossEntropyLoss`` every minibatch."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

PER_SAMPLE = """\
import torch
import torch.nn as nn


class PathwayModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 2), {ending})

    def forward(self, graph):
        return self.lin(graph.mean(0))


def train(samples, labels, minibatch=8):
    out_probs, real_labels = [], []
    for index, graph in enumerate(samples):
        out_probs.append(model(graph))
        real_labels.append(labels[index])
        if (index + 1) % minibatch == 0:
            optimizer.zero_grad()
            batch = torch.cat(out_probs, dim=0).reshape(-1, 2)
            loss = criterion(batch, torch.tensor(real_labels))
            loss.backward()
            optimizer.step()
            out_probs, real_labels = [], []


if __name__ == "__main__":
    model = PathwayModel()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(100):
        train([], [])
"""


def test_softmax_outputs_appended_then_concatenated_feed_cross_entropy(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": PER_SAMPLE.format(ending="nn.Softmax(dim=0)")})
    [finding] = lint_in_process(tmp_path / "model.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 22)
    assert finding.message.startswith("PathwayModel's output (line 8) is softmax probabilities, and this line feeds it "
                                      "to CrossEntropyLoss")


def test_logits_appended_then_concatenated_are_not_reported(tmp_path: Path) -> None:
    write_project(tmp_path, {"model.py": PER_SAMPLE.format(ending="nn.Identity()")})
    assert lint_in_process(tmp_path / "model.py", "GL215") == []


def test_a_list_of_log_probabilities_is_not_the_output(tmp_path: Path) -> None:
    source = PER_SAMPLE.format(ending="nn.Softmax(dim=0)").replace("out_probs.append(model(graph))",
                                                                      "out_probs.append(model(graph).log())")
    write_project(tmp_path, {"model.py": source})
    assert lint_in_process(tmp_path / "model.py", "GL215") == []
