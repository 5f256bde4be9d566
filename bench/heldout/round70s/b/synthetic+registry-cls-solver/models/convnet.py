import torch
import torch.nn as nn
import torch.nn.functional as F

from . import register_model


def conv_bn(cin, cout, stride=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


@register_model("simplenet")
class SimpleNet(nn.Module):
    """Small VGG-style network for 32x32 inputs."""

    def __init__(self, num_classes=10, width=64):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(3, width), conv_bn(width, width), nn.MaxPool2d(2),
            conv_bn(width, width * 2), conv_bn(width * 2, width * 2), nn.MaxPool2d(2),
            conv_bn(width * 2, width * 4), nn.AdaptiveAvgPool2d(1),
        )
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(width * 4, num_classes)

    def forward(self, x):
        x = self.features(x).flatten(1)
        x = self.fc(self.dropout(x))
        return F.softmax(x, dim=1)


@register_model("mlp_mixer_tiny")
class TinyMLP(nn.Module):
    """Baseline on flattened pixels; returns log-probabilities."""

    def __init__(self, num_classes=10, hidden=512):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(3 * 32 * 32, hidden), nn.GELU(),
            nn.Linear(hidden, hidden), nn.GELU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return torch.log_softmax(self.net(x), dim=-1)
