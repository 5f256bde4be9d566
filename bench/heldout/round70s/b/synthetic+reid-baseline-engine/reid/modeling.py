import torch
import torch.nn as nn
import torchvision

_BACKBONES = {
    "resnet50": (torchvision.models.resnet50, 2048),
    "resnet101": (torchvision.models.resnet101, 2048),
    "densenet121": (torchvision.models.densenet121, 1024),
}


class Baseline(nn.Module):
    """Backbone + global pooling + BNNeck + identity classifier ("Bag of Tricks" style)."""

    def __init__(self, name, num_ids, pretrained=True):
        super().__init__()
        ctor, dim = _BACKBONES[name]
        net = ctor(weights="DEFAULT" if pretrained else None)
        self.base = nn.Sequential(*list(net.children())[:-2])
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.bottleneck = nn.BatchNorm1d(dim)
        self.bottleneck.bias.requires_grad_(False)
        self.classifier = nn.Linear(dim, num_ids, bias=False)

    def forward(self, x):
        feat = self.gap(self.base(x)).flatten(1)
        bn_feat = self.bottleneck(feat)
        if self.training:
            return self.classifier(bn_feat), feat
        return bn_feat


def build_model(cfg):
    model = Baseline(cfg["MODEL.NAME"], cfg["DATA.NUM_IDS"], cfg["MODEL.PRETRAINED"])
    if cfg["MODEL.FREEZE_BACKBONE"]:
        model.base.requires_grad_(False)
    return model
