import os
import random

import numpy as np
import torch
import torch.nn as nn


def seed_everything(seed=1234):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def freeze(module):
    """Stop gradients for every parameter of `module`."""
    for p in module.parameters():
        p.requires_grad = False
    return module


def set_bn_eval(module):
    """Put every BatchNorm layer in eval mode (use running stats)."""
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()


def save_ckpt(model, path):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    torch.save(model.state_dict(), path)


def load_encoder(path, encoder):
    state = torch.load(path, map_location="cpu")
    state = {k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")}
    encoder.load_state_dict(state)
    return encoder
