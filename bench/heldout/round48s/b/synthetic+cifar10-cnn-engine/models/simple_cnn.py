import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class SimpleCNN(nn.Module):
    """Three conv stages followed by a two-layer classifier."""

    def __init__(self, num_classes=10, width=32, dropout=0.3):
        super().__init__()
        self.stage1 = nn.Sequential(ConvBlock(3, width), ConvBlock(width, width), nn.MaxPool2d(2))
        self.stage2 = nn.Sequential(ConvBlock(width, 2 * width), ConvBlock(2 * width, 2 * width), nn.MaxPool2d(2))
        self.stage3 = nn.Sequential(ConvBlock(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1))
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(4 * width, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.stage1(x)
        x = self.stage2(x)
        x = self.stage3(x)
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        x = self.fc2(x)
        return F.softmax(x, dim=1)


def simple_cnn(num_classes=10, **kwargs):
    return SimpleCNN(num_classes=num_classes, **kwargs)
