import torch
import torch.nn as nn
from torchvision import models


class CassavaNet(nn.Module):
    """EfficientNet-B0 encoder + small MLP head for the 5 cassava classes."""

    def __init__(self, n_classes=5, pretrained=True, dropout=0.3):
        super().__init__()
        effnet = models.efficientnet_b0(pretrained=pretrained)
        self.backbone = effnet.features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(1280, 256),
            nn.ReLU(inplace=True),
            nn.Linear(256, n_classes),
        )

    def forward(self, x):
        x = self.backbone(x)
        x = self.pool(x)
        return self.head(x)


if __name__ == "__main__":
    m = CassavaNet(pretrained=False)
    print(m(torch.randn(2, 3, 256, 256)).shape)
