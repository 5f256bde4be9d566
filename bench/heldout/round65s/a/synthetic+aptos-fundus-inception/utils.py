import torch.nn as nn


def freeze_bn(model):
    """Put every BatchNorm in inference mode and stop its affine updates."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.eval()
            if m.weight is not None:
                m.weight.requires_grad = False
                m.bias.requires_grad = False


def quadratic_kappa_ready(preds, thresholds=(0.5, 1.5, 2.5, 3.5)):
    out = preds.clone()
    for i, t in enumerate(thresholds):
        out[preds >= t] = i + 1
    out[preds < thresholds[0]] = 0
    return out.long()


def cohen_kappa_weights(n=5):
    import numpy as np
    w = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            w[i, j] = (i - j) ** 2 / (n - 1) ** 2
    return w
