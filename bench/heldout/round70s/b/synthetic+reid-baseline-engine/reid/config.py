"""Default configuration, overridden from the command line as KEY=VALUE pairs."""
import copy

_DEFAULTS = {
    "MODEL.NAME": "resnet50",
    "MODEL.PRETRAINED": True,
    "MODEL.FREEZE_BACKBONE": True,
    "MODEL.NECK": "bnneck",
    "DATA.ROOT": "/datasets/market1501",
    "DATA.NUM_IDS": 751,
    "DATA.SIZE": (256, 128),
    "SOLVER.LR": 3.5e-4,
    "SOLVER.EPOCHS": 120,
    "SOLVER.MARGIN": 0.3,
    "SOLVER.LABEL_SMOOTH": 0.1,
    "SOLVER.IMS_PER_BATCH": 64,
}


def get_cfg(overrides=()):
    cfg = copy.deepcopy(_DEFAULTS)
    for item in overrides:
        key, value = item.split("=", 1)
        if key not in cfg:
            raise KeyError(key)
        cfg[key] = type(cfg[key])(eval(value)) if not isinstance(cfg[key], str) else value
    return cfg
