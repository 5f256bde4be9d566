"""GL215 through names an output passes on: ``mean = outputs.view(b, crops, -1).mean(1)``
is still the model's probabilities (held-out round 13, a CheXNet port averaging ten crops),
while ``probs.log()`` is log-probabilities, the input ``NLLLoss`` expects (a method that
changes the values ends the output)."""

from __future__ import annotations

from pathlib import Path

from conftest import lint_in_process, write_project

SCRIPT = """\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            return {ending}


    model = Net()
    criterion = nn.{loss}()
    for x, y in []:
        outputs = model(x)
        {fed}
        criterion(fed, y).backward()
"""


def _lint(tmp_path: Path, fed: str, loss: str = "CrossEntropyLoss", ending: str = "torch.sigmoid(self.fc(x))") -> list:
    write_project(tmp_path, {"train.py": SCRIPT.format(fed=fed, loss=loss, ending=ending)})
    return lint_in_process(tmp_path / "train.py", "GL215")


def test_a_crop_mean_of_the_output_bound_to_a_name_is_still_the_output(tmp_path: Path) -> None:
    [finding] = _lint(tmp_path, "fed = outputs.view(2, 10, -1).mean(1)")
    assert (finding.code, finding.line) == ("GL215", 20)
    assert finding.message.startswith("Net's output (line 12) is sigmoid probabilities, and this line feeds it to "
                                      "CrossEntropyLoss")


def test_the_log_of_softmax_probabilities_into_nll_loss_is_quiet(tmp_path: Path) -> None:
    softmax = "F.softmax(self.fc(x), dim=1)"
    assert _lint(tmp_path, "fed = outputs.log()", loss="NLLLoss", ending=softmax) == []
    assert _lint(tmp_path, "fed = model(x).log()", loss="NLLLoss", ending=softmax) == []
    # the probabilities themselves into NLLLoss are the slip
    [finding] = _lint(tmp_path, "fed = outputs.clamp(min=1e-8)", loss="NLLLoss", ending=softmax)
    assert finding.line == 20 and "is softmax probabilities, and this line feeds it to NLLLoss" in finding.message
