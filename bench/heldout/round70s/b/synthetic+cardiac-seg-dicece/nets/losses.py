import torch
import torch.nn as nn
import torch.nn.functional as F


def soft_dice(probs, target, n_classes, eps=1e-5, skip_bg=True):
    onehot = F.one_hot(target, n_classes).permute(0, 3, 1, 2).float()
    dims = (0, 2, 3)
    inter = (probs * onehot).sum(dims)
    denom = probs.sum(dims) + onehot.sum(dims)
    dice = (2 * inter + eps) / (denom + eps)
    return 1 - (dice[1:] if skip_bg else dice).mean()


class DiceCELoss(nn.Module):
    """CE on logits + soft Dice on softmax probabilities (nnU-Net style)."""

    def __init__(self, n_classes, w_dice=1.0, w_ce=1.0):
        super().__init__()
        self.n_classes = n_classes
        self.ce = nn.CrossEntropyLoss()
        self.w_dice, self.w_ce = w_dice, w_ce

    def forward(self, logits, target):
        ce = self.ce(logits, target)
        dice = soft_dice(torch.softmax(logits, dim=1), target, self.n_classes)
        return self.w_ce * ce + self.w_dice * dice


class DiceLoss(nn.Module):
    """Dice on probabilities produced by the network itself."""

    def __init__(self, n_classes):
        super().__init__()
        self.n_classes = n_classes

    def forward(self, probs, target):
        return soft_dice(probs, target, self.n_classes)
