import torch
import torch.nn as nn
import torchvision


class FeatureHeadNet(nn.Module):
    """MobileNetV2 features are computed without gradient, only the head learns."""

    def __init__(self, num_classes=101):
        super().__init__()
        self.encoder = torchvision.models.mobilenet_v2(pretrained=True).features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Linear(1280, 512),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(512, num_classes),
        )

    def forward(self, x):
        with torch.no_grad():
            feats = self.encoder(x)
        feats = self.pool(feats).flatten(1)
        return self.head(feats)


class FeatureHeadNetV2(nn.Module):
    """ShuffleNetV2 trunk kept in eval mode whatever mode the wrapper is in."""

    def __init__(self, num_classes=101):
        super().__init__()
        trunk = torchvision.models.shufflenet_v2_x1_0(pretrained=True)
        trunk.fc = nn.Identity()
        self.encoder = trunk
        for p in self.encoder.parameters():
            p.requires_grad = False
        self.head = nn.Linear(1024, num_classes)

    def train(self, mode=True):
        super().train(mode)
        self.encoder.eval()
        return self

    def forward(self, x):
        return self.head(self.encoder(x))


def build(name, num_classes=101):
    if name == "v1":
        return FeatureHeadNet(num_classes)
    if name == "v2":
        return FeatureHeadNetV2(num_classes)
    raise ValueError(name)
