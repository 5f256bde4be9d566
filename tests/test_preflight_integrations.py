"""The Lightning and transformers callbacks, with the real packages on tiny CPU models
(.ci/setup installs both; a test skips only where its package cannot be imported)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from gradlint import PreflightError  # noqa: E402


def line_of(marker: str) -> int:
    with open(__file__) as source:
        return next(n for n, text in enumerate(source, 1) if marker in text and "line_of" not in text)


# ---- Lightning ---------------------------------------------------------------------

def _lightning_run(lr: float, **callback_options):
    L = pytest.importorskip("lightning.pytorch")
    from gradlint.integrations.lightning import GradlintCallback

    class Tiny(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
            self.unused = nn.Linear(16, 16)  # LIGHTNING_UNUSED

        def training_step(self, batch, batch_idx):
            x, y = batch
            return nn.functional.cross_entropy(self.net(x), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=lr)

    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(32, 8), torch.randint(0, 4, (32,)))
    callback = GradlintCallback(**callback_options)
    trainer = L.Trainer(max_steps=3, callbacks=[callback], logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu", devices=1)
    model = Tiny()
    trainer.fit(model, torch.utils.data.DataLoader(data, batch_size=8))
    return callback, trainer, model


def test_lightning_callback_reports_on_the_first_batch():
    callback, trainer, _ = _lightning_run(lr=0.0)
    found = {f.code: f for f in callback.report.findings}
    assert set(found) == {"GL401", "GL405"}, [f.message for f in callback.report.findings]
    assert found["GL401"].line == line_of("# LIGHTNING_UNUSED") and "unused.weight" in found["GL401"].message
    assert "learning rate is 0" in found["GL405"].message
    assert callback.report.models[0]["probe"]["loss"] == "loss_fn(output, batch)"
    assert trainer.global_step == 3  # no stop asked for: training went on


def test_lightning_callback_stops_or_raises():
    _, trainer, _ = _lightning_run(lr=0.0, stop_on="error")
    assert trainer.global_step < 3
    with pytest.raises(PreflightError, match="GL405"):
        _lightning_run(lr=0.0, raise_on="error")


def test_lightning_callback_leaves_the_model_as_it_was():
    callback, _, model = _lightning_run(lr=0.1)
    assert [f.code for f in callback.report.findings] == ["GL401"]
    assert "forward" not in model.__dict__  # the measured training_step was put back as it was


# ---- transformers ------------------------------------------------------------------

def _hf_run(tmp_path, freeze_head: bool, **callback_options):
    transformers = pytest.importorskip("transformers")
    from gradlint.integrations.transformers import GradlintCallback

    config = transformers.BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=16, num_labels=3)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    if freeze_head:
        model.classifier.requires_grad_(False)
    rows = [{"input_ids": torch.randint(0, 40, (8,)), "attention_mask": torch.ones(8, dtype=torch.long),
             "labels": torch.tensor(i % 3)} for i in range(16)]
    args = transformers.TrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=4,
                                          report_to=[], use_cpu=True, save_strategy="no", logging_strategy="no",
                                          warmup_steps=1)
    callback = GradlintCallback(**callback_options)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=rows, callbacks=[callback])
    trainer.train()
    return callback, trainer


def test_transformers_callback_healthy_bert_has_no_gl4xx(tmp_path):
    callback, trainer = _hf_run(tmp_path, freeze_head=False)
    report = callback.report
    assert not [f for f in report.findings if f.code.startswith("GL4")], [f.message for f in report.findings]
    assert report.models[0]["probe"]["loss"] == "the model's own loss"
    assert report.models[0]["probe"]["input"].startswith("input_ids=int64[4,8]")
    assert trainer.state.global_step == 2


def test_transformers_callback_frozen_head_is_gl403_and_raises(tmp_path):
    callback, _ = _hf_run(tmp_path, freeze_head=True)
    found = [f for f in callback.report.findings if f.code == "GL403"]
    assert len(found) == 1 and "output layer 'classifier'" in found[0].message
    with pytest.raises(PreflightError, match="GL403"):
        _hf_run(tmp_path, freeze_head=True, raise_on="error")
