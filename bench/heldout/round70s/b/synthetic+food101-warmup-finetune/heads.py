import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm


def build_head(in_features, num_classes, hidden=512, dropout=0.3):
    """MLP classification head that outputs class probabilities."""
    return nn.Sequential(
        nn.Dropout(dropout),
        nn.Linear(in_features, hidden),
        nn.SiLU(inplace=True),
        nn.Dropout(dropout / 2),
        nn.Linear(hidden, num_classes),
        nn.Softmax(dim=1),
    )


def build_model(cfg):
    ctor = getattr(tvm, cfg["backbone"])
    net = ctor(weights="DEFAULT")
    in_features = net.classifier[-1].in_features
    net.classifier = build_head(in_features, cfg["num_classes"], cfg["head_hidden"], cfg["head_dropout"])
    return net


class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, label_smoothing=0.0):
        super().__init__()
        self.gamma = gamma
        self.ls = label_smoothing

    def forward(self, logits, target):
        ce = F.cross_entropy(logits, target, reduction="none", label_smoothing=self.ls)
        pt = torch.exp(-ce)
        return ((1 - pt) ** self.gamma * ce).mean()


def build_loss(cfg):
    name = cfg["LOSSES"][cfg["loss"]] if "LOSSES" in cfg else cfg["loss"]
    if name == "CrossEntropyLoss":
        return nn.CrossEntropyLoss(label_smoothing=cfg["label_smoothing"])
    if name == "FocalLoss":
        return FocalLoss(label_smoothing=cfg["label_smoothing"])
    raise KeyError(name)
