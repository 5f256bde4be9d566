import torch
import torch.nn as nn


class CenterLoss(nn.Module):
    """Wen et al. 2016: pull embeddings towards learnable class centres."""

    def __init__(self, num_classes, feat_dim):
        super().__init__()
        self.centers = nn.Parameter(torch.randn(num_classes, feat_dim))

    def forward(self, feats, labels):
        centers = self.centers.index_select(0, labels)
        return ((feats - centers) ** 2).sum(dim=1).mean() / 2.0


class LabelSmoothingCE(nn.Module):
    def __init__(self, eps=0.1):
        super().__init__()
        self.eps = eps

    def forward(self, logits, target):
        logp = torch.log_softmax(logits, dim=-1)
        nll = -logp.gather(1, target.unsqueeze(1)).squeeze(1)
        smooth = -logp.mean(dim=-1)
        return ((1 - self.eps) * nll + self.eps * smooth).mean()
