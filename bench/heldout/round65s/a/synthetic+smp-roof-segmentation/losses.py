import torch
import torch.nn as nn


class SoftDiceLoss(nn.Module):
    """Dice on probabilities (expects values already in [0, 1])."""

    def __init__(self, eps=1.0):
        super().__init__()
        self.eps = eps

    def forward(self, probs, target):
        probs = probs.flatten(1)
        target = target.flatten(1)
        inter = (probs * target).sum(1)
        union = probs.sum(1) + target.sum(1)
        dice = (2 * inter + self.eps) / (union + self.eps)
        return 1.0 - dice.mean()


def iou_score(probs, target, thr=0.5):
    pred = (probs > thr).float()
    inter = (pred * target).sum()
    union = pred.sum() + target.sum() - inter
    return (inter / union.clamp(min=1e-6)).item()
