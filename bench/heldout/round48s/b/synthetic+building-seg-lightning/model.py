import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class UpBlock(nn.Module):
    def __init__(self, cin, skip, cout):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin + skip, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        )

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], dim=1))


class ResNetUNet(nn.Module):
    """U-Net decoder on a ResNet-34 encoder; outputs a building-footprint probability map."""

    def __init__(self, pretrained=True):
        super().__init__()
        enc = torchvision.models.resnet34(weights="IMAGENET1K_V1" if pretrained else None)
        self.encoder = nn.ModuleDict({
            "stem": nn.Sequential(enc.conv1, enc.bn1, enc.relu),
            "pool": enc.maxpool,
            "layer1": enc.layer1, "layer2": enc.layer2, "layer3": enc.layer3, "layer4": enc.layer4,
        })
        self.up4 = UpBlock(512, 256, 256)
        self.up3 = UpBlock(256, 128, 128)
        self.up2 = UpBlock(128, 64, 64)
        self.up1 = UpBlock(64, 64, 32)
        self.head = nn.Conv2d(32, 1, kernel_size=1)

    def forward(self, x):
        size = x.shape[-2:]
        s0 = self.encoder["stem"](x)
        s1 = self.encoder["layer1"](self.encoder["pool"](s0))
        s2 = self.encoder["layer2"](s1)
        s3 = self.encoder["layer3"](s2)
        s4 = self.encoder["layer4"](s3)
        d = self.up4(s4, s3)
        d = self.up3(d, s2)
        d = self.up2(d, s1)
        d = self.up1(d, s0)
        d = F.interpolate(self.head(d), size=size, mode="bilinear", align_corners=False)
        return torch.sigmoid(d)
