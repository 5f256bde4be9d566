import torch.nn as nn
from torchvision import models

_BUILDERS = {
    "mobilenet_v3_large": (models.mobilenet_v3_large, "IMAGENET1K_V2"),
    "mobilenet_v3_small": (models.mobilenet_v3_small, "IMAGENET1K_V1"),
    "efficientnet_b0": (models.efficientnet_b0, "IMAGENET1K_V1"),
}


class PlantNet(nn.Module):
    def __init__(self, name, num_classes, pretrained=True, freeze_backbone=False):
        super().__init__()
        builder, weights = _BUILDERS[name]
        base = builder(weights=weights if pretrained else None)
        self.features = base.features
        self.pool = nn.AdaptiveAvgPool2d(1)
        in_ch = base.classifier[0].in_features
        self.classifier = nn.Sequential(
            nn.Linear(in_ch, 512),
            nn.Hardswish(),
            nn.Dropout(0.2),
            nn.Linear(512, num_classes),
        )
        if freeze_backbone:
            for p in self.features.parameters():
                p.requires_grad = False

    def forward(self, x):
        x = self.pool(self.features(x)).flatten(1)
        return self.classifier(x)


def build_model(cfg):
    return PlantNet(cfg["name"], cfg["num_classes"], cfg.get("pretrained", True), cfg.get("freeze_backbone", False))
