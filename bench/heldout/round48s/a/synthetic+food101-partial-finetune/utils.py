import logging

import torch
import torch.nn as nn

logger = logging.getLogger(__name__)


def freeze_until(model, stop_at="layer4"):
    """Freeze every top-level child that comes before `stop_at`."""
    for name, child in model.named_children():
        if name == stop_at:
            break
        for p in child.parameters():
            p.requires_grad = False
        logger.info("froze %s", name)


def set_bn_eval(module):
    """Put BatchNorm layers whose weights are frozen back into eval mode."""
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            if not any(p.requires_grad for p in m.parameters()):
                m.eval()


def accuracy(output, target, topk=(1, 5)):
    maxk = max(topk)
    _, pred = output.topk(maxk, 1, True, True)
    correct = pred.t().eq(target.view(1, -1))
    return [correct[:k].reshape(-1).float().sum().item() / target.size(0) for k in topk]


def save_checkpoint(state, path):
    torch.save(state, path)
