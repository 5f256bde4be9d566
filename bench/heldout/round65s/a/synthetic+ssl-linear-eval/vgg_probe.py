"""Baseline: ImageNet VGG-16 (no batch norm) conv features with a trainable MLP head."""
import torch
import torch.nn as nn
from torchvision import models

from data import imagenet_loaders


class VGGProbe(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        vgg = models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)
        self.features = vgg.features
        for p in self.features.parameters():
            p.requires_grad = False
        self.pool = nn.AdaptiveAvgPool2d((7, 7))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(512 * 49, 1024), nn.ReLU(), nn.Linear(1024, num_classes))

    def forward(self, x):
        return self.head(self.pool(self.features(x)))


def main(epochs=30):
    loader, _ = imagenet_loaders("/datasets/imagenet", batch_size=128)
    probe = VGGProbe().cuda()
    opt = torch.optim.Adam(probe.head.parameters(), lr=1e-3)
    for _ in range(epochs):
        probe.train()
        for x, y in loader:
            loss = nn.functional.cross_entropy(probe(x.cuda()), y.cuda())
            opt.zero_grad()
            loss.backward()
            opt.step()


if __name__ == "__main__":
    main()
