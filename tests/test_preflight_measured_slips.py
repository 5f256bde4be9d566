"""gradlint.preflight measures GL406 (a frozen module whose BatchNorm statistics the
batch moves) and GL215 (the gradient at the logits with and without the model's final
softmax/sigmoid under the user's loss), and leaves the model bit-identical."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = nn.functional

import gradlint  # noqa: E402
from gradlint.rules import gl215_loss_output_mismatch as gl215  # noqa: E402


def line_of(marker: str) -> int:
    with open(__file__) as source:
        return next(n for n, text in enumerate(source, 1) if marker in text and "line_of" not in text)


class Finetune(nn.Module):
    def __init__(self, final: str = "none"):
        super().__init__()
        self.backbone = nn.Sequential(  # BACKBONE_LINE
            nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(8, 10)
        self.final = {"softmax": nn.Softmax(dim=1), "sigmoid": nn.Sigmoid(), "none": nn.Identity()}[final]  # FINAL

    def forward(self, x):
        return self.final(self.head(self.backbone(x)))


class FunctionalSoftmax(nn.Module):  # FUNCTIONAL_CLASS
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=-1)


def _batch(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(16, 3, 12, 12, generator=generator), torch.randint(0, 10, (16,), generator=generator)


def _ce(output, batch):
    return F.cross_entropy(output, batch[1])


def _snapshot(model, optimizer):
    return ({k: v.clone() for k, v in model.state_dict().items()}, [m.training for m in model.modules()],
            [p.requires_grad for p in model.parameters()],
            {id(p): {k: v.clone() for k, v in s.items() if isinstance(v, torch.Tensor)} for p, s in optimizer.state.items()})


def _same(a, b) -> bool:
    (state_a, modes_a, req_a, opt_a), (state_b, modes_b, req_b, opt_b) = a, b
    return (state_a.keys() == state_b.keys() and all(torch.equal(state_a[k], state_b[k]) for k in state_a)
            and modes_a == modes_b and req_a == req_b and opt_a.keys() == opt_b.keys()
            and all(torch.equal(opt_a[p][k], opt_b[p][k]) for p in opt_a for k in opt_a[p]))


def _frozen_backbone(final: str = "none"):
    torch.manual_seed(0)
    model = Finetune(final)
    model.backbone.requires_grad_(False)
    optimizer = torch.optim.Adam(model.head.parameters(), lr=1e-3)
    x, y = _batch()
    F.cross_entropy(Finetune()(x), y)  # nothing of the model's: only to warm up
    loss = F.cross_entropy(model(x), y) if final == "none" else None
    if loss is not None:
        loss.backward()
        optimizer.step()  # optimiser state exists and must come back bit for bit
    return model, optimizer


def test_frozen_batchnorm_in_train_mode_is_measured_and_everything_restored():
    model, optimizer = _frozen_backbone()
    before = _snapshot(model, optimizer)
    report = gradlint.preflight(model, _batch(1), loss_fn=_ce, optimizer=optimizer)
    found = [f for f in report.findings if f.code == "GL406"]
    assert [(f.line, f.path.endswith("test_preflight_measured_slips.py")) for f in found] == [
        (line_of("BACKBONE_LINE"), True)]
    assert "'backbone' (Sequential) has all 240 parameters frozen" in found[0].message
    assert found[0].confirmation.status == "confirmed"
    assert found[0].confirmation.evidence["batchnorm_layers"] == 1
    assert found[0].confirmation.evidence["max_change"] > 0.01  # the batch statistics moved the running ones
    assert _same(before, _snapshot(model, optimizer))  # num_batches_tracked and running stats included


def test_frozen_batchnorm_kept_in_eval_mode_is_not_reported():
    model, optimizer = _frozen_backbone()
    model.train()
    model.backbone.eval()
    report = gradlint.preflight(model, _batch(1), loss_fn=_ce, optimizer=optimizer)
    assert "GL406" not in report.codes
    assert model.training and not model.backbone.training  # the modes come back too


def test_backbone_left_out_of_the_optimiser_counts_as_frozen():
    torch.manual_seed(0)
    model = Finetune()
    optimizer = torch.optim.SGD(model.head.parameters(), lr=0.1)  # requires_grad stays True everywhere
    report = gradlint.preflight(model, _batch(1), loss_fn=_ce, optimizer=optimizer)
    assert [f.line for f in report.findings if f.code == "GL406"] == [line_of("BACKBONE_LINE")]


def test_trained_batchnorm_is_not_reported():
    torch.manual_seed(0)
    model = Finetune()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    assert "GL406" not in gradlint.preflight(model, _batch(1), loss_fn=_ce, optimizer=optimizer).codes


def test_softmax_into_cross_entropy_measures_the_gradient_at_the_logits():
    torch.manual_seed(0)
    model = Finetune("softmax")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = _snapshot(model, optimizer)
    report = gradlint.preflight(model, _batch(1), loss_fn=_ce, optimizer=optimizer)
    found = [f for f in report.findings if f.code == "GL215"]
    assert [f.line for f in found] == [line_of("# FINAL")]
    assert "returns softmax probabilities and the loss is cross-entropy" in found[0].message
    evidence = found[0].confirmation.evidence
    # 10 classes, near-uniform probabilities: the gradient at the logits is about a tenth
    assert found[0].confirmation.status == "confirmed"
    assert 0.05 < evidence["logit_grad_ratio"] < 0.2
    assert evidence["logit_grad_ratio"] == pytest.approx(evidence["grad_with_activation"] / evidence["grad_without_activation"], rel=0.01)
    assert _same(before, _snapshot(model, optimizer))


def test_functional_softmax_into_nll_loss_is_measured_at_the_model():
    torch.manual_seed(0)
    model = FunctionalSoftmax()
    x, y = torch.randn(32, 16), torch.randint(0, 10, (32,))
    report = gradlint.preflight(model, (x, y), loss_fn=lambda out, b: F.nll_loss(out, b[1]))
    found = [f for f in report.findings if f.code == "GL215"]
    assert [f.line for f in found] == [line_of("FUNCTIONAL_CLASS")]
    assert "NLL loss (it expects log-probabilities)" in found[0].message
    assert found[0].confirmation.evidence["logit_grad_ratio"] < 0.5


def test_sigmoid_into_bce_with_logits_is_measured_and_bce_is_not():
    torch.manual_seed(0)
    model = Finetune("sigmoid")
    x, y = _batch(1)
    target = F.one_hot(y, 10).float()
    with_logits = gradlint.preflight(model, (x, target), loss_fn=lambda out, b: F.binary_cross_entropy_with_logits(out, b[1]))
    found = [f for f in with_logits.findings if f.code == "GL215"]
    assert [f.line for f in found] == [line_of("# FINAL")]
    assert found[0].confirmation.status == "confirmed" and found[0].confirmation.evidence["logit_grad_ratio"] < 0.5
    plain = gradlint.preflight(model, (x, target), loss_fn=lambda out, b: F.binary_cross_entropy(out, b[1]))
    assert "GL215" not in plain.codes


def test_softmax_into_bce_with_logits_on_one_hot_targets_is_measured():
    # held-out round 25: class probabilities fed to BCEWithLogitsLoss, which squeezes each into (0.5, 0.73)
    torch.manual_seed(0)
    model = Finetune("softmax")
    x, y = _batch(1)
    report = gradlint.preflight(model, (x, F.one_hot(y, 10).float()),
                                loss_fn=lambda out, b: F.binary_cross_entropy_with_logits(out, b[1]))
    found = [f for f in report.findings if f.code == "GL215"]
    assert [f.line for f in found] == [line_of("# FINAL")]
    assert "BCE-with-logits (it applies a sigmoid to each probability)" in found[0].message
    # 10 classes: a few hundredths of the gradient the logits get alone
    assert found[0].confirmation.status == "confirmed" and 0.01 < found[0].confirmation.evidence["logit_grad_ratio"] < 0.15


def test_logits_into_cross_entropy_and_softmax_into_kl_div_are_not_reported():
    model, optimizer = _frozen_backbone()
    assert "GL215" not in gradlint.preflight(model, _batch(1), loss_fn=_ce, optimizer=optimizer).codes
    torch.manual_seed(0)
    model = Finetune("softmax")
    teacher = torch.full((16, 10), 0.1)
    report = gradlint.preflight(model, _batch(1), loss_fn=lambda out, b: F.kl_div(out.log(), teacher, reduction="batchmean"))
    assert "GL215" not in report.codes


def test_confirm_policy_of_gl215():
    assert gl215.confirm({"logit_grad_ratio": 0.11}).status == "confirmed"
    assert gl215.confirm({"logit_grad_ratio": 0.9}).status == "refuted"
    not_probed = gl215.confirm(None)
    assert not_probed.status == "not-probed" and "preflight" in not_probed.evidence["reason"]
