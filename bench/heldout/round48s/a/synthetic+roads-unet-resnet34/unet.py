import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models


class DecoderBlock(nn.Module):
    def __init__(self, in_ch, skip_ch, out_ch):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_ch + skip_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
        )

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], 1))


class ResNetUNet(nn.Module):
    """UNet whose encoder is an ImageNet ResNet-34."""

    def __init__(self, n_classes=1, pretrained=True):
        super().__init__()
        rn = models.resnet34(weights="DEFAULT" if pretrained else None)
        self.encoder = nn.ModuleDict({
            "stem": nn.Sequential(rn.conv1, rn.bn1, rn.relu),
            "layer1": nn.Sequential(rn.maxpool, rn.layer1),
            "layer2": rn.layer2,
            "layer3": rn.layer3,
            "layer4": rn.layer4,
        })
        self.dec4 = DecoderBlock(512, 256, 256)
        self.dec3 = DecoderBlock(256, 128, 128)
        self.dec2 = DecoderBlock(128, 64, 64)
        self.dec1 = DecoderBlock(64, 64, 32)
        self.head = nn.Conv2d(32, n_classes, 1)

    def forward(self, x):
        size = x.shape[-2:]
        s0 = self.encoder["stem"](x)
        s1 = self.encoder["layer1"](s0)
        s2 = self.encoder["layer2"](s1)
        s3 = self.encoder["layer3"](s2)
        s4 = self.encoder["layer4"](s3)
        d = self.dec4(s4, s3)
        d = self.dec3(d, s2)
        d = self.dec2(d, s1)
        d = self.dec1(d, s0)
        return F.interpolate(self.head(d), size=size, mode="bilinear", align_corners=False)
