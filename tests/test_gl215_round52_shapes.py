"""GL215 on held-out round 52 (``bench/heldout/round52/c``), in our own words: a student's
news classifier whose forward builds its activation layers as locals, the last of them a
softmax, trained with CrossEntropyLoss."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

LOCAL_LAYERS = """\
import torch


class NewsNet(torch.nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.hidden = torch.nn.Linear(n_in, 64)
        self.out = torch.nn.Linear(64, n_out)

    def forward(self, x):
        last = torch.nn.{layer}(dim=-1)
        relu = torch.nn.ReLU()
        h = relu(self.hidden(x))
        y = last(self.out(h))
        return y


model = NewsNet(300, 4)
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(10):
    for x, t in []:
        optimizer.zero_grad()
        loss = criterion(model(x), t)
        loss.backward()
        optimizer.step()
"""


def test_a_softmax_layer_built_in_forward_and_applied_last_is_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"news.py": LOCAL_LAYERS.format(layer="Softmax")})
    [finding] = lint_in_process(tmp_path / "news.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 24)
    assert finding.message.startswith("NewsNet's output (line 14) is softmax probabilities, and this line feeds it to "
                                      "CrossEntropyLoss")


def test_a_log_softmax_layer_built_in_forward_is_fine_for_cross_entropy(tmp_path: Path) -> None:
    write_project(tmp_path, {"news.py": LOCAL_LAYERS.format(layer="LogSoftmax")})
    assert lint_in_process(tmp_path / "news.py", "GL215") == []
