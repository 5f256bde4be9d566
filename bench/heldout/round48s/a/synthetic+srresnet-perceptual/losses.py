import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class PerceptualLoss(nn.Module):
    """Feature distance on relu3_3 of an ImageNet VGG16-BN."""

    def __init__(self, layer_idx=23):
        super().__init__()
        vgg = models.vgg16_bn(weights=models.VGG16_BN_Weights.IMAGENET1K_V1)
        self.features = vgg.features[:layer_idx]
        for p in self.features.parameters():
            p.requires_grad = False
        self.register_buffer("mean", IMAGENET_MEAN)
        self.register_buffer("std", IMAGENET_STD)

    def forward(self, sr, hr):
        sr = (sr - self.mean) / self.std
        hr = (hr - self.mean) / self.std
        with torch.no_grad():
            target = self.features(hr)
        return F.mse_loss(self.features(sr), target)


class TextureLoss(nn.Module):
    """Gram-matrix loss on VGG19 (no batch norm) conv features."""

    def __init__(self, layers=(3, 8, 17)):
        super().__init__()
        vgg = models.vgg19(weights=models.VGG19_Weights.IMAGENET1K_V1).features
        self.slices = nn.ModuleList()
        prev = 0
        for idx in layers:
            self.slices.append(vgg[prev:idx + 1])
            prev = idx + 1
        for p in self.parameters():
            p.requires_grad = False

    @staticmethod
    def gram(x):
        b, c, h, w = x.shape
        f = x.view(b, c, h * w)
        return f @ f.transpose(1, 2) / (c * h * w)

    def forward(self, sr, hr):
        loss = 0.0
        for s in self.slices:
            sr, hr = s(sr), s(hr)
            loss = loss + F.l1_loss(self.gram(sr), self.gram(hr))
        return loss
