"""Per-box 'ripe / unripe' head classifiers on frozen features, used to filter detections."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from dataset import WheatCropDataset
from utils import FrozenEval


class RipenessProbe(nn.Module):
    def __init__(self):
        super().__init__()
        eff = torchvision.models.efficientnet_b0(weights="DEFAULT")
        self.features = FrozenEval(nn.Sequential(eff.features, eff.avgpool, nn.Flatten()))
        self.head = nn.Linear(1280, 1)

    def forward(self, x):
        return self.head(self.features(x)).squeeze(1)


class TexturePatchNet(nn.Module):
    """Cheaper variant on VGG-16 conv features (no batch norm in vgg16)."""

    def __init__(self):
        super().__init__()
        self.backbone = torchvision.models.vgg16(weights="DEFAULT").features[:16]
        self.backbone.requires_grad_(False)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 1), nn.Sigmoid())

    def forward(self, x):
        return self.head(self.backbone(x)).squeeze(1)


def train_probe(model, loader, loss_kind, epochs=5, device="cuda"):
    model.to(device)
    opt = torch.optim.Adam(model.head.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        for crops, ripe in loader:
            crops, ripe = crops.to(device), ripe.float().to(device)
            out = model(crops)
            if loss_kind == "logits":
                loss = F.binary_cross_entropy_with_logits(out, ripe)
            else:
                loss = F.binary_cross_entropy(out, ripe)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f"{type(model).__name__} epoch {epoch} loss {loss.item():.4f}")


if __name__ == "__main__":
    loader = torch.utils.data.DataLoader(WheatCropDataset("crops/"), batch_size=128, shuffle=True)
    train_probe(RipenessProbe(), loader, "logits")
    train_probe(TexturePatchNet(), loader, "probs")
