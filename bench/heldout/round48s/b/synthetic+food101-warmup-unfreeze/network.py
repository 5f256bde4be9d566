import torch.nn as nn
import torchvision


class FoodClassifier(nn.Module):
    def __init__(self, arch="efficientnet_b0", num_classes=101, dropout=0.3):
        super().__init__()
        builder = getattr(torchvision.models, arch)
        net = builder(weights="DEFAULT")
        self.backbone = net.features
        in_features = net.classifier[-1].in_features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(in_features, num_classes))

    def set_backbone_trainable(self, flag):
        for p in self.backbone.parameters():
            p.requires_grad = flag

    def forward(self, x):
        return self.head(self.pool(self.backbone(x)))
