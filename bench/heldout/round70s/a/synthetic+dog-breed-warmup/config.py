CONFIG = {
    "data_dir": "../input/dog-breed-identification",
    "arch": "resnext50_32x4d",
    "num_classes": 120,
    "img_size": 320,
    "batch_size": 48,
    "epochs": 40,
    "freeze_epochs": 15,      # train only the new fc while the backbone is frozen
    "head_lr": 1e-3,
    "body_lr": 1e-4,
    "weight_decay": 1e-4,
    "seed": 2024,
    "out_dir": "checkpoints",
}

AUG = {
    "hflip": 0.5,
    "color_jitter": 0.2,
    "random_erasing": 0.0,
}


def get_config(**overrides):
    """Copy of CONFIG with command-line style overrides, e.g. get_config(epochs=5)."""
    cfg = dict(CONFIG)
    for k, v in overrides.items():
        if k not in cfg:
            raise KeyError(f"unknown config key {k}")
        cfg[k] = v
    return cfg
