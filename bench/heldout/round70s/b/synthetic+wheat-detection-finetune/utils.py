import torch
import torch.nn as nn


def freeze(module):
    """Disable gradients and switch the module to inference behaviour."""
    for p in module.parameters():
        p.requires_grad = False
    module.eval()
    return module


class FrozenEval(nn.Module):
    """Wraps a frozen feature extractor so that .train() on the parent never flips it back."""

    def __init__(self, net):
        super().__init__()
        self.net = freeze(net)

    def train(self, mode=True):
        super().train(mode)
        self.net.eval()
        return self

    @torch.no_grad()
    def forward(self, x):
        return self.net(x)


def collate_fn(batch):
    return tuple(zip(*batch))
