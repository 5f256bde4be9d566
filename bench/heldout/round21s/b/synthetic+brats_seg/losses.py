import torch
import torch.nn as nn
import torch.nn.functional as F


class SoftDiceLoss(nn.Module):
    """Multi-class soft Dice. Expects *probabilities* (B, C, H, W) and
    integer masks (B, H, W)."""

    def __init__(self, smooth=1.0, ignore_bg=True):
        super().__init__()
        self.smooth = smooth
        self.ignore_bg = ignore_bg

    def forward(self, probs, target):
        n_classes = probs.shape[1]
        onehot = F.one_hot(target.long(), n_classes).permute(0, 3, 1, 2).float()
        if self.ignore_bg:
            probs, onehot = probs[:, 1:], onehot[:, 1:]
        dims = (0, 2, 3)
        inter = (probs * onehot).sum(dims)
        denom = probs.sum(dims) + onehot.sum(dims)
        dice = (2 * inter + self.smooth) / (denom + self.smooth)
        return 1.0 - dice.mean()


class FocalTversky(nn.Module):
    def __init__(self, alpha=0.7, gamma=0.75, smooth=1.0):
        super().__init__()
        self.alpha, self.gamma, self.smooth = alpha, gamma, smooth

    def forward(self, probs, target):
        onehot = F.one_hot(target.long(), probs.shape[1]).permute(0, 3, 1, 2).float()
        tp = (probs * onehot).sum((0, 2, 3))
        fn = ((1 - probs) * onehot).sum((0, 2, 3))
        fp = (probs * (1 - onehot)).sum((0, 2, 3))
        tv = (tp + self.smooth) / (tp + self.alpha * fn + (1 - self.alpha) * fp + self.smooth)
        return torch.pow(1 - tv, self.gamma).mean()
