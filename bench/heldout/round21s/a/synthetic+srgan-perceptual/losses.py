import torch
import torch.nn as nn
import torchvision


class VGGPerceptualLoss(nn.Module):
    """Content loss on relu5_4 of VGG-19 (SRGAN paper)."""

    def __init__(self):
        super().__init__()
        vgg = torchvision.models.vgg19(pretrained=True)
        self.features = nn.Sequential(*list(vgg.features.children())[:36])
        for p in self.features.parameters():
            p.requires_grad = False
        self.mse = nn.MSELoss()

    def forward(self, sr, hr):
        return self.mse(self.features(sr), self.features(hr))


class BNPerceptualLoss(nn.Module):
    """Perceptual loss on the first blocks of VGG-16 with batch norm."""

    def __init__(self, layers=(12, 22, 32)):
        super().__init__()
        feats = torchvision.models.vgg16_bn(pretrained=True).features
        self.blocks = nn.ModuleList()
        prev = 0
        for l in layers:
            self.blocks.append(feats[prev:l])
            prev = l
        for p in self.blocks.parameters():
            p.requires_grad = False
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x, y):
        x, y = (x - self.mean) / self.std, (y - self.mean) / self.std
        loss = 0.0
        for b in self.blocks:
            x, y = b(x), b(y)
            loss = loss + nn.functional.l1_loss(x, y)
        return loss


class TVLoss(nn.Module):
    def forward(self, x):
        return (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().mean() + (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().mean()
