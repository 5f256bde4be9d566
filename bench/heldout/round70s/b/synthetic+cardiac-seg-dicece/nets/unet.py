import torch
import torch.nn as nn


def double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, in_ch=1, n_classes=4, base=32):
        super().__init__()
        chs = [base * 2 ** i for i in range(5)]
        self.downs = nn.ModuleList([double_conv(in_ch, chs[0])] +
                                   [double_conv(chs[i], chs[i + 1]) for i in range(4)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(chs[i + 1], chs[i], 2, 2) for i in reversed(range(4))])
        self.dec = nn.ModuleList([double_conv(chs[i] * 2, chs[i]) for i in reversed(range(4))])
        self.out = nn.Conv2d(chs[0], n_classes, 1)

    def encode(self, x):
        skips = []
        for i, d in enumerate(self.downs):
            x = d(x if i == 0 else nn.functional.max_pool2d(x, 2))
            skips.append(x)
        return x, skips[:-1][::-1]

    def forward(self, x):
        x, skips = self.encode(x)
        for up, dec, s in zip(self.ups, self.dec, skips):
            x = dec(torch.cat([up(x), s], 1))
        return self.out(x)


class AttentionGate(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.psi = nn.Sequential(nn.Conv2d(2 * ch, ch, 1), nn.ReLU(inplace=True), nn.Conv2d(ch, 1, 1), nn.Sigmoid())

    def forward(self, g, s):
        return s * self.psi(torch.cat([g, s], 1))


class AttentionUNet(UNet):
    """U-Net with attention gates on the skips; returns per-pixel class probabilities."""

    def __init__(self, in_ch=1, n_classes=4, base=32):
        super().__init__(in_ch, n_classes, base)
        self.gates = nn.ModuleList([AttentionGate(base * 2 ** i) for i in reversed(range(4))])
        self.final_act = nn.Softmax(dim=1)

    def forward(self, x):
        x, skips = self.encode(x)
        for up, dec, gate, s in zip(self.ups, self.dec, self.gates, skips):
            g = up(x)
            x = dec(torch.cat([g, gate(g, s)], 1))
        return self.final_act(self.out(x))
