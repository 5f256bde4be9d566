import torch
import torch.nn as nn


class ArcFace(nn.Module):
    def __init__(self, dim, n_classes, s=30.0, m=0.3):
        super().__init__()
        self.W = nn.Parameter(torch.randn(n_classes, dim) * 0.01)
        self.s, self.m = s, m
        self.ce = nn.CrossEntropyLoss()

    def forward(self, emb, y):
        cos = emb @ nn.functional.normalize(self.W, dim=1).t()
        theta = torch.acos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
        target = torch.cos(theta + self.m)
        onehot = torch.zeros_like(cos).scatter_(1, y[:, None], 1.0)
        logits = self.s * (onehot * target + (1 - onehot) * cos)
        return self.ce(logits, y)


class ContrastiveLoss(nn.Module):
    """Siamese contrastive loss on L2-normalised embeddings (used for the radenovic baseline)."""

    def __init__(self, margin=0.7):
        super().__init__()
        self.margin = margin

    def forward(self, a, b, same):
        d = (a - b).pow(2).sum(1).sqrt()
        pos = same * d.pow(2)
        neg = (1 - same) * torch.clamp(self.margin - d, min=0).pow(2)
        return 0.5 * (pos + neg).mean()
