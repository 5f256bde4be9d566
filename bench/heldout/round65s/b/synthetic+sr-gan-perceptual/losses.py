import torch
import torch.nn as nn
import torchvision


class VGGFeatureLoss(nn.Module):
    """Perceptual (content) loss on feature maps of an ImageNet classifier.

    `arch` picks the loss network; features are compared up to `cut` layers.
    """

    def __init__(self, arch="vgg16_bn", cut=23, criterion="l1"):
        super().__init__()
        if arch == "vgg16_bn":
            vgg = torchvision.models.vgg16_bn(weights="IMAGENET1K_V1")
        elif arch == "vgg19":
            vgg = torchvision.models.vgg19(weights="IMAGENET1K_V1")
        else:
            raise ValueError(arch)
        self.features = nn.Sequential(*list(vgg.features.children())[:cut])
        for param in self.features.parameters():
            param.requires_grad = False
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.criterion = nn.L1Loss() if criterion == "l1" else nn.MSELoss()

    def forward(self, sr, hr):
        sr = (sr - self.mean) / self.std
        hr = (hr - self.mean) / self.std
        return self.criterion(self.features(sr), self.features(hr).detach())


class GANLoss(nn.Module):
    def __init__(self):
        super().__init__()
        self.bce = nn.BCEWithLogitsLoss()

    def forward(self, pred, is_real):
        target = torch.ones_like(pred) if is_real else torch.zeros_like(pred)
        return self.bce(pred, target)
