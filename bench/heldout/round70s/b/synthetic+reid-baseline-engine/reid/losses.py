import torch
import torch.nn as nn
import torch.nn.functional as F


class CrossEntropyLabelSmooth(nn.Module):
    def __init__(self, num_classes, epsilon=0.1):
        super().__init__()
        self.num_classes = num_classes
        self.epsilon = epsilon

    def forward(self, logits, targets):
        log_probs = F.log_softmax(logits, dim=1)
        onehot = torch.zeros_like(log_probs).scatter_(1, targets.unsqueeze(1), 1)
        smooth = (1 - self.epsilon) * onehot + self.epsilon / self.num_classes
        return (-smooth * log_probs).sum(1).mean()


class TripletLoss(nn.Module):
    """Batch-hard triplet loss."""

    def __init__(self, margin=0.3):
        super().__init__()
        self.ranking = nn.MarginRankingLoss(margin=margin)

    def forward(self, feats, targets):
        dist = torch.cdist(feats, feats)
        same = targets.unsqueeze(0) == targets.unsqueeze(1)
        d_ap = (dist * same.float()).max(1).values
        d_an = (dist + 1e5 * same.float()).min(1).values
        return self.ranking(d_an, d_ap, torch.ones_like(d_an))


def build_loss(cfg):
    xent = CrossEntropyLabelSmooth(cfg["DATA.NUM_IDS"], cfg["SOLVER.LABEL_SMOOTH"])
    triplet = TripletLoss(cfg["SOLVER.MARGIN"])

    def loss_fn(score, feat, target):
        return xent(score, target) + triplet(feat, target)
    return loss_fn
