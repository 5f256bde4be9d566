"""Experiment configuration for Food-101 transfer learning."""

DEFAULTS = {
    "data_root": "food-101",
    "arch": "efficientnet_b0",
    "num_classes": 101,
    "image_size": 224,
    "batch_size": 64,
    "epochs": 40,
    "head_lr": 3e-3,
    "backbone_lr": 3e-4,
    "weight_decay": 1e-5,
    # keep the pretrained backbone fixed while the new head warms up
    "freeze_epochs": 10,
    "num_workers": 8,
}


def load_config(overrides=None):
    cfg = dict(DEFAULTS)
    if overrides:
        cfg.update({k: v for k, v in overrides.items() if v is not None})
    return cfg
