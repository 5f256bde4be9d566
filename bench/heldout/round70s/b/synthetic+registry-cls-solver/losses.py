"""Criterion factory driven by the `loss` section of the config."""
import torch
import torch.nn as nn


class LabelSmoothingNLL(nn.Module):
    def __init__(self, smoothing=0.1):
        super().__init__()
        self.smoothing = smoothing

    def forward(self, log_probs, target):
        nll = -log_probs.gather(1, target.unsqueeze(1)).squeeze(1)
        smooth = -log_probs.mean(dim=1)
        return ((1 - self.smoothing) * nll + self.smoothing * smooth).mean()


def build_criterion(cfg):
    name = cfg.get("name", "ce")
    if name == "ce":
        weight = cfg.get("class_weights")
        if weight is not None:
            weight = torch.tensor(weight, dtype=torch.float)
        return nn.CrossEntropyLoss(weight=weight, label_smoothing=cfg.get("smoothing", 0.0))
    if name == "nll":
        return nn.NLLLoss()
    if name == "smooth_nll":
        return LabelSmoothingNLL(cfg.get("smoothing", 0.1))
    raise ValueError(f"unsupported loss {name}")
