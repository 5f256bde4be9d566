import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class DecoderBlock(nn.Module):
    def __init__(self, cin, skip, cout):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin + skip, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True),
        )

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv(x)


class ResNetUNet(nn.Module):
    """U-Net with a torchvision ResNet-34 encoder; returns one logit map for the road mask."""

    def __init__(self, pretrained=True):
        super().__init__()
        enc = torchvision.models.resnet34(weights="IMAGENET1K_V1" if pretrained else None)
        self.stem = nn.Sequential(enc.conv1, enc.bn1, enc.relu)
        self.pool = enc.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = enc.layer1, enc.layer2, enc.layer3, enc.layer4
        self.dec4 = DecoderBlock(512, 256, 256)
        self.dec3 = DecoderBlock(256, 128, 128)
        self.dec2 = DecoderBlock(128, 64, 64)
        self.dec1 = DecoderBlock(64, 64, 32)
        self.dec0 = DecoderBlock(32, 0, 16)
        self.head = nn.Conv2d(16, 1, kernel_size=1)

    def forward(self, x):
        s0 = self.stem(x)
        e1 = self.layer1(self.pool(s0))
        e2 = self.layer2(e1)
        e3 = self.layer3(e2)
        e4 = self.layer4(e3)
        d = self.dec4(e4, e3)
        d = self.dec3(d, e2)
        d = self.dec2(d, e1)
        d = self.dec1(d, s0)
        d = self.dec0(d)
        return self.head(d)


def freeze_encoder_stages(model, stages=("stem", "layer1", "layer2")):
    """Keep low-level ImageNet filters fixed; only deeper stages and decoder adapt."""
    for name in stages:
        for p in getattr(model, name).parameters():
            p.requires_grad = False
