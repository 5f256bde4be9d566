import torch
import torch.nn as nn
from torchvision import models

from .heads import MLPHead


class FlowerNet(nn.Module):
    """ResNet-50 feature extractor with a small MLP head."""

    def __init__(self, num_classes=102, pretrained=True):
        super().__init__()
        weights = models.ResNet50_Weights.IMAGENET1K_V2 if pretrained else None
        trunk = models.resnet50(weights=weights)
        in_features = trunk.fc.in_features
        trunk.fc = nn.Identity()
        self.backbone = trunk
        self.head = MLPHead(in_features, num_classes)

    def freeze_backbone(self):
        for param in self.backbone.parameters():
            param.requires_grad = False

    def forward(self, x):
        feats = self.backbone(x)
        return self.head(feats)


def build_flower_net(num_classes, pretrained=True, freeze_backbone=True):
    model = FlowerNet(num_classes=num_classes, pretrained=pretrained)
    if freeze_backbone:
        model.freeze_backbone()
    return model


@torch.no_grad()
def export_features(model, loader, device):
    model.eval()
    out = []
    for images, _ in loader:
        out.append(model.backbone(images.to(device)).cpu())
    return torch.cat(out)
