# Siamese network for offline signature verification (CEDAR / GPDS style)
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models


class EmbeddingHead(nn.Module):
    def __init__(self, in_dim=1280, emb_dim=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, 512),
            nn.ReLU(inplace=True),
            nn.Dropout(0.3),
            nn.Linear(512, emb_dim),
        )

    def forward(self, x):
        return F.normalize(self.net(x), dim=1)


class SiameseNet(nn.Module):
    def __init__(self, emb_dim=128):
        super().__init__()
        mnet = models.mobilenet_v2(weights=models.MobileNet_V2_Weights.IMAGENET1K_V1)
        self.backbone = mnet.features
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = EmbeddingHead(1280, emb_dim)

    def embed(self, x):
        return self.head(self.pool(self.backbone(x)).flatten(1))

    def forward(self, a, b):
        return self.embed(a), self.embed(b)


class ContrastiveLoss(nn.Module):
    def __init__(self, margin=1.0):
        super().__init__()
        self.margin = margin

    def forward(self, ea, eb, same):
        d = F.pairwise_distance(ea, eb)
        pos = same * d.pow(2)
        neg = (1 - same) * F.relu(self.margin - d).pow(2)
        return 0.5 * (pos + neg).mean()
