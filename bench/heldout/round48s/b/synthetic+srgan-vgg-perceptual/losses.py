import torch
import torch.nn as nn
import torchvision


class VGGPerceptualLoss(nn.Module):
    """MSE between VGG19 relu5_4 feature maps of SR and HR images (plain VGG19, no batch norm)."""

    def __init__(self, layer_index=36):
        super().__init__()
        vgg = torchvision.models.vgg19(weights=torchvision.models.VGG19_Weights.IMAGENET1K_V1)
        self.features = nn.Sequential(*list(vgg.features.children())[:layer_index])
        for p in self.features.parameters():
            p.requires_grad = False
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.mse = nn.MSELoss()

    def forward(self, sr, hr):
        sr = ((sr + 1) / 2 - self.mean) / self.std
        hr = ((hr + 1) / 2 - self.mean) / self.std
        return self.mse(self.features(sr), self.features(hr))
