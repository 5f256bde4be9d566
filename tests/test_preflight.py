"""gradlint.preflight on small real models: what it reports in each scenario, and that
afterwards the model, gradients, optimiser state, modes and RNG states are bit-identical."""

from __future__ import annotations

import io
import json
import random

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import gradlint  # noqa: E402
from gradlint import PreflightError  # noqa: E402
from gradlint.registry import get_rule  # noqa: E402


class Net(nn.Module):
    def __init__(self, aux_detached: bool = False):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.1))
        self.aux = nn.Linear(32, 32)  # AUX_LINE
        self.head = nn.Linear(32, 4)
        self.aux_detached = aux_detached

    def forward(self, x):
        h = self.body(x)
        a = self.aux(h)
        return self.head(h + (a.detach() if self.aux_detached else a))


def line_of(marker: str) -> int:
    with open(__file__) as source:
        return next(n for n, text in enumerate(source, 1) if marker in text and "line_of" not in text)


def param_groups(model, weight_decay=0.01, lr=1e-3):
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    rest = [p for n, p in model.named_parameters() if p.dim() <= 1]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": rest, "weight_decay": 0.0}], lr=lr)


def trained(model, optimizer, batch, target):
    """One real training step first, so that gradients and optimiser state exist."""
    loss = nn.functional.cross_entropy(model(batch), target)
    loss.backward()
    optimizer.step()
    (nn.functional.cross_entropy(model(batch), target)).backward()  # gradients left on the parameters


def bits(t):
    return None if t is None else t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).clone()


def snapshot(model, optimizer=None):
    state = {
        "params": [(n, id(p), bits(p), p.requires_grad, id(p.grad) if p.grad is not None else None, bits(p.grad))
                   for n, p in model.named_parameters()],
        "buffers": [(n, id(b), bits(b)) for n, b in model.named_buffers()],
        "modes": [(n, m.training) for n, m in model.named_modules()],
        "cpu_rng": bits(torch.get_rng_state()),
        "py_rng": random.getstate(),
    }
    if optimizer is not None:
        state["opt_state"] = [(id(p), sorted((k, bits(v) if torch.is_tensor(v) else v, id(v)) for k, v in s.items()))
                              for p, s in optimizer.state.items()]
        state["opt_groups"] = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
        state["opt_attrs"] = sorted(k for k in vars(optimizer))
    return state


def assert_identical(before, after):
    assert before.keys() == after.keys()
    for key in before:
        left, right = before[key], after[key]
        assert _same(left, right), key


def _same(a, b):
    if torch.is_tensor(a) or torch.is_tensor(b):
        return torch.is_tensor(a) and torch.is_tensor(b) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@pytest.fixture
def batch():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(16, 8, generator=generator), torch.randint(0, 4, (16,), generator=generator)


def ce(output, batch):
    return nn.functional.cross_entropy(output, batch[1])


def run(model, optimizer, batch, **kwargs):
    before = snapshot(model, optimizer)
    report = gradlint.preflight(model, batch, loss_fn=kwargs.pop("loss_fn", ce), optimizer=optimizer, **kwargs)
    assert_identical(before, snapshot(model, optimizer))
    return report


def test_healthy_adamw_param_groups_report_nothing_and_restore_everything(batch):
    torch.manual_seed(0)
    model = Net()
    optimizer = param_groups(model)
    trained(model, optimizer, *batch)
    random.seed(7)
    report = run(model, optimizer, batch)
    assert report.findings == [], [f.message for f in report.findings]
    assert report.models and report.models[0]["probe"]["loss"] == "loss_fn(output, batch)"


def test_only_batchnorm_trainable_is_gl403(batch):
    torch.manual_seed(0)
    model = Net()
    for name, param in model.named_parameters():
        param.requires_grad_("body.1." in name)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    report = run(model, optimizer, batch)
    found = [f for f in report.findings if f.code == "GL403"]
    assert len(found) == 1 and "only 2 normalisation/bias parameter(s) train" in found[0].message
    assert found[0].line == line_of("class Net(nn.Module)")


def test_head_replaced_after_the_optimizer_is_gl402_at_the_replacement(batch):
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model.head = nn.Linear(32, 4)  # REPLACED_HEAD
    report = run(model, optimizer, batch)
    found = [f for f in report.findings if f.code == "GL402"]
    assert [f.line for f in found] == [line_of("# REPLACED_HEAD")]
    assert "head.weight, head.bias" in found[0].message and found[0].path.endswith("test_preflight.py")


def test_detached_aux_branch_is_gl401_where_the_module_is_created(batch):
    torch.manual_seed(0)
    model = Net(aux_detached=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    report = run(model, optimizer, batch)
    found = [f for f in report.findings if f.code == "GL401"]
    assert [f.line for f in found] == [line_of("# AUX_LINE")]
    assert "aux.weight, aux.bias" in found[0].message and "never learn" in found[0].message
    assert not [f for f in report.findings if f.code == "GL402"]  # no gradient: not 'left out of the optimiser'


def test_a_loss_that_ignores_an_output_is_gl401_with_the_users_loss(batch):
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(8, 16)
            self.main = nn.Linear(16, 4)
            self.side = nn.Linear(16, 2)  # SIDE_HEAD

        def forward(self, x):
            h = self.body(x).relu()
            return self.main(h), self.side(h)

    torch.manual_seed(0)
    model = TwoHeads()
    report = run(model, None, batch, loss_fn=lambda out, b: nn.functional.cross_entropy(out[0], b[1]), steps=0)
    found = [f for f in report.findings if f.code == "GL401"]
    assert [f.line for f in found] == [line_of("# SIDE_HEAD")]
    assert "the loss does not use the output they feed" in found[0].message


def test_lr_zero_is_gl405_and_the_step_is_undone(batch):
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9)  # LR_ZERO
    report = run(model, optimizer, batch)
    found = [f for f in report.findings if f.code == "GL405"]
    assert len(found) == 1 and "learning rate is 0" in found[0].message
    assert found[0].line == line_of("# LR_ZERO")
    assert optimizer.state == {} or all(not s for s in optimizer.state.values())


def test_a_real_step_changes_parameters_but_they_are_restored(batch):
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    trained(model, optimizer, *batch)
    report = run(model, optimizer, batch, steps=2)
    assert not [f for f in report.findings if f.code == "GL405"]


def test_weight_decay_on_everything_is_gl404_info(batch):
    torch.manual_seed(0)
    model = Net()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)  # DECAY_ALL
    report = run(model, optimizer, batch)
    found = [f for f in report.findings if f.code == "GL404"]
    assert len(found) == 1 and found[0].severity.value == "info"
    assert "2 normalisation weight(s), 3 bias(es)" in found[0].message
    assert found[0].line == line_of("# DECAY_ALL")


def test_model_left_in_eval_mode(batch):
    torch.manual_seed(0)
    model = Net()
    optimizer = param_groups(model)
    model.eval()
    report = run(model, optimizer, batch)
    assert report.eval_modules[0] == "" and "body.1" in report.eval_modules
    found = [f for f in report.findings if f.code == "GL211"]
    if get_rule("GL211") is not None:  # the static rule module (another branch) owns the code
        assert len(found) == 1 and "eval mode" in found[0].message
    else:
        assert found == []


def test_steps_zero_copies_no_parameter(batch, monkeypatch):
    from gradlint.inprocess import run as run_module

    copies = []
    original = run_module.SavedState

    class Recording(original):
        def __init__(self, model, optimizer, copy_params):
            copies.append(copy_params)
            super().__init__(model, optimizer, copy_params)
            assert (self.values == []) == (not copy_params)

    monkeypatch.setattr(run_module, "SavedState", Recording)
    torch.manual_seed(0)
    model = Net()
    run(model, torch.optim.SGD(model.parameters(), lr=0.0), batch, steps=0)
    run(model, torch.optim.SGD(model.parameters(), lr=0.0), batch, steps=1)
    assert copies == [False, True]


def test_batch_forms_tensor_tuple_and_dict_with_own_loss(batch):
    class Hf(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 16)
            self.out = nn.Linear(16, 20)

        def forward(self, input_ids, labels=None):
            logits = self.out(self.embed(input_ids))
            loss = nn.functional.cross_entropy(logits.reshape(-1, 20), labels.reshape(-1)) if labels is not None else None
            return {"loss": loss, "logits": logits}

    torch.manual_seed(0)
    ids = torch.randint(0, 20, (4, 6))
    report = run(Hf(), None, {"input_ids": ids, "labels": ids}, loss_fn=None)
    assert report.models[0]["probe"]["loss"] == "the model's own loss"
    assert report.models[0]["probe"]["input"] == "input_ids=int64[4,6], labels=int64[4,6]"
    plain = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))
    assert run(plain, None, batch[0], loss_fn=None).models[0]["probe"]["input"] == "float32[16,8]"
    assert run(plain, None, batch).models[0]["probe"]["input"] == "float32[16,8]"


def test_bad_input_raises_a_clear_error_and_leaves_the_model_unchanged(batch):
    torch.manual_seed(0)
    model = Net()
    optimizer = param_groups(model)
    trained(model, optimizer, *batch)
    wrong_width, elsewhere = torch.randn(4, 5), torch.randn(4, 8, device="meta")
    before = snapshot(model, optimizer)
    with pytest.raises(PreflightError, match="could not run a training step on this batch.*RuntimeError"):
        gradlint.preflight(model, wrong_width, optimizer=optimizer)
    with pytest.raises(PreflightError, match=r"not a scalar: reduce it"):
        gradlint.preflight(model, batch, loss_fn=lambda out, b: (out - 1) ** 2, optimizer=optimizer)
    with pytest.raises(PreflightError, match="the batch is on meta but the model is on cpu"):
        gradlint.preflight(model, elsewhere, optimizer=optimizer)
    with pytest.raises(PreflightError, match="takes a torch.nn.Module"):
        gradlint.preflight("model", batch)
    assert_identical(before, snapshot(model, optimizer))


def test_raise_on_warning_carries_the_report(batch):
    torch.manual_seed(0)
    model = Net(aux_detached=True)
    with pytest.raises(PreflightError) as raised:
        gradlint.preflight(model, batch, loss_fn=ce, raise_on="warning")
    assert "GL401" in str(raised.value) and raised.value.report.codes == ["GL401"]
    report = gradlint.preflight(model, batch, loss_fn=ce, raise_on="error")  # a warning is below 'error'
    assert report.codes == ["GL401"]


def test_print_and_json_are_the_clis(batch):
    torch.manual_seed(0)
    report = run(Net(aux_detached=True), None, batch)
    stream = io.StringIO()
    report.print(stream)
    text = stream.getvalue()
    assert "model Net:" in text and " GL401 measured: 2 trainable parameter(s)" in text
    assert "gradient norm by layer" in text and text.rstrip().splitlines()[-1].startswith("Found 1 ")
    data = json.loads(json.dumps(report.to_json()))
    assert data["version"] == 1 and [f["code"] for f in data["findings"]] == ["GL401"]
    assert data["findings"][0]["line"] == line_of("# AUX_LINE")


def test_an_untraceable_forward_is_a_notice_not_a_finding(batch):
    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 4)

        def forward(self, x):
            rows = [self.fc(row) for row in x]  # iterating over a tensor: torch.fx cannot trace it
            return torch.stack(rows)

    torch.manual_seed(0)
    report = run(Branchy(), None, batch)
    assert report.findings == [] and "could not be traced with torch.fx" in report.notices[0]


def test_sharded_models_get_a_notice():
    class FullyShardedDataParallel(nn.Module):  # what torch's FSDP wrapper is called
        def __init__(self):
            super().__init__()
            self.module = nn.Linear(4, 4)

    report = gradlint.preflight(FullyShardedDataParallel(), torch.randn(2, 4))
    assert report.findings == [] and "not supported yet" in report.notices[0]


def test_ddp_measures_the_local_module(tmp_path, batch):
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        torch.manual_seed(0)
        model = nn.parallel.DistributedDataParallel(Net(aux_detached=True))
        report = run(model, torch.optim.SGD(model.parameters(), lr=0.1), batch)
        assert report.rank == 0 and [f.code for f in report.findings] == ["GL401"]
    finally:
        dist.destroy_process_group()
