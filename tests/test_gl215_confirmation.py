"""GL215's confirmation in the CLI: the probe measures the gradient at the model's logits
with and without its final softmax under the loss the finding names, and the finding is
confirmed (a measured ratio) or stays not-probed with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradlint.config import Settings
from gradlint.findings import Finding, Severity
from gradlint.probe.loss_link import confirm_loss_findings
from gradlint.runner import RunOptions, run

SCRIPT = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        return F.softmax(self.fc2(torch.relu(self.fc1(x))), dim=1)


model = Classifier()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train(loader):
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
'''


def _finding(line: int, loss: str = "CrossEntropyLoss", activation: str = "line 13") -> Finding:
    return Finding("GL215", "loss-output-mismatch", Severity.ERROR, "train.py", line, 1, line, 2,
                   f"Classifier's output ({activation}) is softmax probabilities, and this line feeds it to {loss}, "
                   "which applies ...")


def test_probe_confirms_softmax_into_cross_entropy_with_a_measured_ratio(tmp_path: Path, monkeypatch):
    pytest.importorskip("torch")
    (tmp_path / "train.py").write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    settings = Settings(select=["GL215", "GL301"], root=tmp_path)  # a probe rule: the models are analysed
    result = run(["train.py"], settings, RunOptions(use_cache=False))
    (finding,) = [f for f in result.findings if f.code == "GL215"]
    assert finding.line == 24
    assert finding.confirmation is not None and finding.confirmation.status == "confirmed"
    # 10 classes: about a tenth of the gradient the logits get without the extra softmax
    assert 0.05 < finding.confirmation.evidence["logit_grad_ratio"] < 0.2
    assert finding.confirmation.evidence["loss"] == "CrossEntropyLoss"


def test_probe_confirms_a_sigmoid_into_cross_entropy_with_a_measured_ratio(tmp_path: Path, monkeypatch):
    # held-out round 12: ten class scores squashed by nn.Sigmoid, trained with CrossEntropyLoss
    pytest.importorskip("torch")
    (tmp_path / "train.py").write_text(SCRIPT.replace("return F.softmax(self.fc2(torch.relu(self.fc1(x))), dim=1)",
                                                      "return torch.sigmoid(self.fc2(torch.relu(self.fc1(x))))"))
    monkeypatch.chdir(tmp_path)
    result = run(["train.py"], Settings(select=["GL215", "GL301"], root=tmp_path), RunOptions(use_cache=False))
    (finding,) = [f for f in result.findings if f.code == "GL215"]
    assert finding.line == 24 and "is sigmoid probabilities, and this line feeds it to CrossEntropyLoss" in finding.message
    assert finding.confirmation is not None and finding.confirmation.status == "confirmed"
    # the sigmoid's slope (at most 0.25) times a nearly flat softmax: about a fifth
    assert 0.1 < finding.confirmation.evidence["logit_grad_ratio"] < 0.3


def test_probe_confirms_softmax_into_bce_with_logits_with_a_measured_ratio(tmp_path: Path, monkeypatch):
    pytest.importorskip("torch")
    script = SCRIPT.replace("criterion = nn.CrossEntropyLoss()", "criterion = nn.BCEWithLogitsLoss()").replace(
        "criterion(model(x), y)", "criterion(model(x), F.one_hot(y, 10).float())")
    (tmp_path / "train.py").write_text(script)
    monkeypatch.chdir(tmp_path)
    result = run(["train.py"], Settings(select=["GL215", "GL301"], root=tmp_path), RunOptions(use_cache=False))
    (finding,) = [f for f in result.findings if f.code == "GL215"]
    assert finding.line == 24 and "feeds it to BCEWithLogitsLoss, which applies a sigmoid to each probability" in finding.message
    assert "(about 0.06x with 10 classes)" in finding.message
    assert finding.confirmation is not None and finding.confirmation.status == "confirmed"
    assert 0.01 < finding.confirmation.evidence["logit_grad_ratio"] < 0.15
    assert finding.confirmation.evidence["loss"] == "BCEWithLogitsLoss"


def test_no_exec_leaves_it_not_probed_with_the_reason(tmp_path: Path, monkeypatch):
    (tmp_path / "train.py").write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    result = run(["train.py"], Settings(select=["GL215"], root=tmp_path), RunOptions(use_cache=False, no_exec=True))
    (finding,) = result.findings
    assert finding.confirmation.status == "not-probed" and "was probed" in finding.confirmation.evidence["reason"]


def test_not_probed_keeps_the_reason():
    models = [{"name": "Classifier", "path": "train.py", "line": 6, "probe": {"loss": "cross-entropy"}}]
    unmatched, plain_output, other_file = _finding(24), _finding(24), _finding(24, activation="nets.py:3")
    confirm_loss_findings([unmatched], [])
    assert unmatched.confirmation.status == "not-probed"
    assert "no model defined in this file was probed" in unmatched.confirmation.evidence["reason"]
    confirm_loss_findings([plain_output], models)
    assert "was not a softmax/sigmoid tensor" in plain_output.confirmation.evidence["reason"]
    confirm_loss_findings([other_file], models)  # the model of another file: not this file's Classifier
    assert other_file.confirmation.status == "not-probed"


def test_measured_ratio_picks_the_findings_loss():
    measured = {"activation": "softmax", "logit_grad_ratio": {"CrossEntropyLoss": 0.1, "NLLLoss": 0.8}}
    models = [{"name": "Classifier", "path": "train.py", "line": 6, "probe": {"output_activation": measured}}]
    ce, nll = _finding(13), _finding(13, "F.nll_loss")
    confirm_loss_findings([ce, nll], models)
    assert (ce.confirmation.status, ce.confirmation.evidence["logit_grad_ratio"]) == ("confirmed", 0.1)
    assert (nll.confirmation.status, nll.confirmation.evidence["logit_grad_ratio"]) == ("refuted", 0.8)


def test_the_model_the_message_names_is_the_one_measured_not_the_last_one_above_the_loss_call():
    # the finding sits on the loss call, below every class of the file: the message's model is the one
    softmax = {"activation": "softmax", "logit_grad_ratio": {"CrossEntropyLoss": 0.1}}
    other = {"activation": "softmax", "logit_grad_ratio": {"CrossEntropyLoss": 0.9}}
    models = [{"name": "Classifier", "path": "train.py", "line": 6, "probe": {"output_activation": softmax}},
              {"name": "Critic", "path": "train.py", "line": 16, "probe": {"output_activation": other}}]
    finding = _finding(40)
    confirm_loss_findings([finding], models)
    assert finding.confirmation.evidence == {"logit_grad_ratio": 0.1, "model": "Classifier", "loss": "CrossEntropyLoss"}
