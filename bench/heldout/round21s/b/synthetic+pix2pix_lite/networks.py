import torch
import torch.nn as nn
from torchvision import models


class UNetDown(nn.Module):
    def __init__(self, i, o, norm=True):
        super().__init__()
        layers = [nn.Conv2d(i, o, 4, 2, 1, bias=False)]
        if norm:
            layers.append(nn.InstanceNorm2d(o))
        layers.append(nn.LeakyReLU(0.2))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class UNetUp(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.model = nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False),
                                   nn.InstanceNorm2d(o), nn.ReLU(inplace=True))

    def forward(self, x, skip):
        return torch.cat((self.model(x), skip), 1)


class GeneratorUNet(nn.Module):
    def __init__(self, in_ch=3, out_ch=3):
        super().__init__()
        self.d1, self.d2 = UNetDown(in_ch, 64, norm=False), UNetDown(64, 128)
        self.d3, self.d4 = UNetDown(128, 256), UNetDown(256, 512)
        self.u1, self.u2, self.u3 = UNetUp(512, 256), UNetUp(512, 128), UNetUp(256, 64)
        self.final = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(128, out_ch, 3, padding=1), nn.Tanh())

    def forward(self, x):
        d1 = self.d1(x)
        d2 = self.d2(d1)
        d3 = self.d3(d2)
        d4 = self.d4(d3)
        u = self.u1(d4, d3)
        u = self.u2(u, d2)
        u = self.u3(u, d1)
        return self.final(u)


class PatchDiscriminator(nn.Module):
    def __init__(self, in_ch=3):
        super().__init__()
        self.model = nn.Sequential(
            nn.Conv2d(in_ch * 2, 64, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(64, 128, 4, 2, 1), nn.InstanceNorm2d(128), nn.LeakyReLU(0.2, True),
            nn.Conv2d(128, 256, 4, 2, 1), nn.InstanceNorm2d(256), nn.LeakyReLU(0.2, True),
            nn.Conv2d(256, 1, 4, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, a, b):
        return self.model(torch.cat((a, b), 1))


class VGGPerceptual(nn.Module):
    """relu2_2 features of a frozen VGG16 (no BN)."""

    def __init__(self):
        super().__init__()
        vgg = models.vgg16(weights=models.VGG16_Weights.IMAGENET1K_V1)
        self.slice = vgg.features[:9]
        for p in self.slice.parameters():
            p.requires_grad = False
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, fake, real):
        fake = ((fake + 1) / 2 - self.mean) / self.std
        real = ((real + 1) / 2 - self.mean) / self.std
        return nn.functional.l1_loss(self.slice(fake), self.slice(real))
