"""GL215 on a shape held-out round 17 (/work/heldout47) found: ``from utils import *``
where the package's ``__init__`` re-exports a training helper of one of its modules
(``from .forward import epoch_controller``), which hands the model's softmax output to
``CrossEntropyLoss`` through a helper of its own (written in our own words)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

MODEL = """\
    import torch
    from torch import nn


    class GRUClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(300, 150)
            self.linear = nn.Linear(150, 2)
            self.out = nn.{last}(dim=-1)

        def forward(self, x):
            output, _ = self.gru(x.unsqueeze(1))
            return self.out(self.linear(output[-1]))
"""

FORWARD = """\
    def forward_step(x, y, net, criterion, optimizer):
        net.train()
        output = net(x)
        loss = criterion(output, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss


    def epoch_controller(rows, net, criterion, optimizer):
        return [forward_step(x, y, net, criterion, optimizer) for x, y in rows]
"""

SCRIPT = """\
    import torch
    from torch import nn

    from utils import *

    net = GRUClassifier()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters())
    for epoch in range(3):
        epoch_controller([], net, criterion, optimizer)
"""

PACKAGE = ('from .model import GRUClassifier\nfrom .forward import epoch_controller, forward_step\n\n'
           '__all__ = ["GRUClassifier", "epoch_controller", "forward_step"]\n')


def test_a_helper_re_exported_by_a_star_imported_package(tmp_path: Path) -> None:
    write_project(tmp_path, {"utils/__init__.py": PACKAGE, "utils/model.py": MODEL.format(last="Softmax"),
                             "utils/forward.py": FORWARD, "train.py": SCRIPT})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 10)
    assert finding.message.startswith("GRUClassifier's output (utils/model.py:10) is softmax probabilities, and this "
                                      "line hands it to `epoch_controller`")


def test_the_same_helper_with_a_log_softmax_model_is_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"utils/__init__.py": PACKAGE, "utils/model.py": MODEL.format(last="LogSoftmax"),
                             "utils/forward.py": FORWARD.replace("CrossEntropyLoss", "NLLLoss"),
                             "train.py": SCRIPT.replace("CrossEntropyLoss", "NLLLoss")})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []
