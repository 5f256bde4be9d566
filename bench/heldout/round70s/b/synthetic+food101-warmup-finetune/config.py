"""Experiment configuration (edit here instead of passing 20 CLI flags)."""

CFG = dict(
    data_root="/datasets/food-101",
    image_size=240,
    num_classes=101,
    backbone="efficientnet_b0",
    head_dropout=0.3,
    head_hidden=512,
    loss="ce",
    label_smoothing=0.1,
    epochs=30,
    freeze_epochs=3,          # train only the head for the first epochs
    lr_head=1e-3,
    lr_backbone=1e-4,
    batch_size=64,
    num_workers=8,
    amp=True,
    seed=42,
)

LOSSES = {
    "ce": "CrossEntropyLoss",
    "focal": "FocalLoss",
}
