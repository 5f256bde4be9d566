import torch.nn as nn


def conv_bn(in_ch, out_ch, k, s=1):
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, k, s, k // 2, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.LeakyReLU(0.1),
    )


class ResidualBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv1 = conv_bn(ch, ch // 2, 1)
        self.conv2 = conv_bn(ch // 2, ch, 3)

    def forward(self, x):
        return x + self.conv2(self.conv1(x))


class DarkNet(nn.Module):
    def __init__(self, layers=(1, 2, 8, 8, 4)):
        super().__init__()
        self.stem = conv_bn(3, 32, 3)
        chans = [32, 64, 128, 256, 512, 1024]
        stages = []
        for i, n in enumerate(layers):
            blocks = [conv_bn(chans[i], chans[i + 1], 3, 2)]
            blocks += [ResidualBlock(chans[i + 1]) for _ in range(n)]
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)

    def forward(self, x):
        x = self.stem(x)
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs[-3], outs[-2], outs[-1]


def darknet53():
    return DarkNet((1, 2, 8, 8, 4))
