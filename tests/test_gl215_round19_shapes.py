"""GL215 on a shape held-out round 19 (/work/heldout51) found: an ACGAN discriminator
returning ``(sigmoid(dis), softmax(aux))``, whose class output goes through
``torch.squeeze`` (the function, not the method) before ``CrossEntropyLoss`` (written in
our own words)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

SOURCE = """\
    import torch
    from torch import nn


    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.dis = nn.Linear(64, 1)
            self.aux = nn.Linear(64, 10)
            self.sigmoid = nn.Sigmoid()
            self.softmax = nn.{last}(dim=1)

        def forward(self, x):
            return self.sigmoid(self.dis(x)), self.softmax(self.aux(x))


    model_D = D()
    dis_criterion = nn.BCELoss()
    aux_criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model_D.parameters())
    for images, labels, real in []:
        output_dis, output_aux = model_D(images)
        output_dis = torch.squeeze(output_dis)
        output_aux = torch.squeeze(output_aux)
        loss = dis_criterion(output_dis, real) + aux_criterion(output_aux, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""


def test_softmax_probabilities_through_torch_squeeze(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": SOURCE.format(last="Softmax")})
    [finding] = lint_in_process(tmp_path / "train.py", "GL215")
    assert (finding.code, finding.line) == ("GL215", 25)
    assert finding.message.startswith("element 1 of the tuple D's forward returns (line 11) is softmax probabilities")


def test_log_probabilities_through_torch_squeeze_are_quiet(tmp_path: Path) -> None:
    write_project(tmp_path, {"train.py": SOURCE.format(last="Identity")})
    assert lint_in_process(tmp_path / "train.py", "GL215") == []
