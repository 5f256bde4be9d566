# default hyper-parameters; override from the command line with key=value
DEFAULTS = {
    "data_root": "data/chest_xray",
    "arch": "densenet121",
    "num_classes": 2,
    "img_size": 224,
    "batch_size": 32,
    "epochs": 20,
    "lr": 3e-4,
    "weight_decay": 1e-5,
    "freeze_backbone": True,   # only train the classifier (small dataset)
    "num_workers": 4,
    "out": "runs/densenet_frozen",
}


def parse_overrides(argv):
    cfg = dict(DEFAULTS)
    for item in argv:
        if "=" not in item:
            continue
        k, v = item.split("=", 1)
        if k not in cfg:
            raise KeyError(f"unknown key {k}")
        t = type(cfg[k])
        if t is bool:
            cfg[k] = v.lower() in ("1", "true", "yes")
        else:
            cfg[k] = t(v)
    return cfg


def dump(cfg):
    for k in sorted(cfg):
        print(f"{k:>16}: {cfg[k]}")
