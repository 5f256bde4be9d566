import torch.nn as nn
import torch.nn.functional as F
from torchvision import models


class EmbeddingAdapter(nn.Module):
    def __init__(self, in_dim, out_dim=256):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(in_dim, 512), nn.GELU(), nn.Linear(512, out_dim))

    def forward(self, x):
        return F.normalize(self.proj(x), dim=-1)


class FrozenTrunkEmbedder(nn.Module):
    """Keeps a pretrained EfficientNet trunk fixed and learns an adapter on top."""

    def __init__(self, out_dim=256):
        super().__init__()
        trunk = models.efficientnet_b3(weights=models.EfficientNet_B3_Weights.DEFAULT)
        self.trunk = trunk.features
        self.trunk.requires_grad_(False)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.adapter = EmbeddingAdapter(1536, out_dim)

    def forward(self, x):
        return self.adapter(self.pool(self.trunk(x)).flatten(1))


class EvalTrunkEmbedder(nn.Module):
    """Same idea, but the trunk is pinned to eval mode whatever mode is asked for."""

    def __init__(self, out_dim=256):
        super().__init__()
        trunk = models.resnet50(weights=models.ResNet50_Weights.DEFAULT)
        self.trunk = nn.Sequential(*list(trunk.children())[:-2])
        for p in self.trunk.parameters():
            p.requires_grad = False
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.adapter = EmbeddingAdapter(2048, out_dim)

    def train(self, mode=True):
        super().train(mode)
        self.trunk.eval()
        return self

    def forward(self, x):
        return self.adapter(self.pool(self.trunk(x)).flatten(1))
