import torch
import torch.nn as nn
import torchvision


class EmotionNet(nn.Module):
    """MobileNetV2 feature extractor (ImageNet weights, kept fixed) + small MLP head."""

    def __init__(self, num_classes=7, freeze_backbone=True):
        super().__init__()
        mnet = torchvision.models.mobilenet_v2(weights=torchvision.models.MobileNet_V2_Weights.DEFAULT)
        self.backbone = mnet.features
        if freeze_backbone:
            for p in self.backbone.parameters():
                p.requires_grad = False
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(1280, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(0.4),
            nn.Linear(256, num_classes),
            nn.Softmax(dim=1),
        )

    def forward(self, x):
        return self.head(self.pool(self.backbone(x)))


if __name__ == "__main__":
    m = EmotionNet()
    print(sum(p.numel() for p in m.parameters() if p.requires_grad), "trainable params")
    print(m(torch.randn(1, 3, 96, 96)).sum())
