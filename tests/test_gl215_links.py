"""GL215 across files and tuples: the message names where the model's activation is."""

from __future__ import annotations

from pathlib import Path

from gradlint.config import Settings
from gradlint.lint import lint_file
from gradlint.registry import all_rules

NETS = """import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
    def forward(self, x):
        probs = nn.functional.softmax(self.fc(x), dim=1)
        return probs, self.fc(x)
"""


def _lint(folder: Path, script: str) -> list:
    path = folder / "train.py"
    path.write_text(script)
    return [f for f in lint_file(path, str(path), [all_rules()["GL215"]], Settings(select=["GL215"], root=folder))]


def test_imported_model_tuple_element_names_the_model_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("")
    (tmp_path / "models" / "nets.py").write_text(NETS)
    findings = _lint(tmp_path, "import torch.nn as nn\nfrom models.nets import Net as Model\n\nnet = Model()\n"
                               "loss_fn = nn.NLLLoss()\nprobs, logits = net(x)\nloss = loss_fn(probs, y)\n")
    assert [(f.code, f.line) for f in findings] == [("GL215", 7)]
    assert "element 0 of the tuple Net's forward returns (models/nets.py:7) is softmax probabilities" in findings[0].message
    assert "expects log-probabilities" in findings[0].message


def test_the_logits_element_of_an_imported_model_is_not_flagged(tmp_path: Path) -> None:
    (tmp_path / "nets.py").write_text(NETS)
    findings = _lint(tmp_path, "import torch.nn as nn\nfrom nets import Net\n\nnet = Net()\n"
                               "ce = nn.CrossEntropyLoss()\nloss = ce(net(x)[1], y)\n")
    assert findings == []


def test_an_edited_model_file_is_read_again(tmp_path: Path) -> None:
    (tmp_path / "nets.py").write_text(NETS)
    script = "import torch.nn as nn\nfrom nets import Net\n\nnet = Net()\nce = nn.CrossEntropyLoss()\nloss = ce(net(x)[0], y)\n"
    assert [f.line for f in _lint(tmp_path, script)] == [6]
    (tmp_path / "nets.py").write_text(NETS.replace("nn.functional.softmax(self.fc(x), dim=1)", "self.fc(x)  # logits now"))
    assert _lint(tmp_path, script) == []
