import torch
import torch.nn as nn
import torchvision


class ConvLayer(nn.Sequential):
    def __init__(self, cin, cout, k, stride=1, upsample=False, relu=True):
        layers = [nn.Upsample(scale_factor=2)] if upsample else []
        layers += [nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride), nn.InstanceNorm2d(cout, affine=True)]
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class Residual(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(ConvLayer(ch, ch, 3), ConvLayer(ch, ch, 3, relu=False))

    def forward(self, x):
        return x + self.body(x)


class TransformerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            ConvLayer(3, 32, 9), ConvLayer(32, 64, 3, 2), ConvLayer(64, 128, 3, 2),
            *[Residual(128) for _ in range(5)],
            ConvLayer(128, 64, 3, upsample=True), ConvLayer(64, 32, 3, upsample=True),
            nn.ReflectionPad2d(4), nn.Conv2d(32, 3, 9),
        )

    def forward(self, x):
        return self.net(x)


class LossNetwork(nn.Module):
    """VGG-16-BN slices used for content (relu2_2) and style (relu1_2..relu4_3) features."""

    def __init__(self):
        super().__init__()
        feats = torchvision.models.vgg16_bn(weights="IMAGENET1K_V1").features.eval()
        for p in feats.parameters():
            p.requires_grad = False
        self.slices = nn.ModuleList([feats[:6], feats[6:13], feats[13:23], feats[23:33]])

    def forward(self, x):
        outs = []
        for s in self.slices:
            x = s(x)
            outs.append(x)
        return outs


def gram(f):
    b, c, h, w = f.shape
    f = f.view(b, c, h * w)
    return f.bmm(f.transpose(1, 2)) / (c * h * w)
