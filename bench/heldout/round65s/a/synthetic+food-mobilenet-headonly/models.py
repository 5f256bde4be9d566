import torch.nn as nn
from torchvision import models


def build_mobilenet(num_classes):
    net = models.mobilenet_v2(weights=models.MobileNet_V2_Weights.DEFAULT)
    net.classifier[1] = nn.Linear(net.last_channel, num_classes)
    return net


class MobileNetFrozenTrunk(nn.Module):
    """MobileNetV2 trunk used as a fixed feature extractor; BN stays in inference mode."""

    def __init__(self, num_classes):
        super().__init__()
        base = models.mobilenet_v2(weights=models.MobileNet_V2_Weights.DEFAULT)
        self.trunk = base.features
        self.trunk.requires_grad_(False)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(base.last_channel, num_classes))

    def train(self, mode=True):
        super().train(mode)
        self.trunk.eval()
        return self

    def forward(self, x):
        x = self.trunk(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)
CONFIG = {
    "data_root": "/data/food-101",
    "num_classes": 101,
    "img_size": 224,
    "batch_size": 64,
    "epochs": 30,
    "lr": 0.01,
    "momentum": 0.9,
    "head_only": True,
    "device": "cuda",
}
