import torch
import torch.nn as nn


class RDB(nn.Module):
    def __init__(self, nf=64, gc=32):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(nf + i * gc, gc if i < 4 else nf, 3, 1, 1) for i in range(5)])
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x):
        feats = [x]
        for i, conv in enumerate(self.convs):
            out = conv(torch.cat(feats, 1))
            if i < 4:
                feats.append(self.act(out))
        return x + 0.2 * out


class RRDBNet(nn.Module):
    def __init__(self, num_block=23, nf=64):
        super().__init__()
        self.head = nn.Conv2d(3, nf, 3, 1, 1)
        self.body = nn.Sequential(*[nn.Sequential(RDB(nf), RDB(nf), RDB(nf)) for _ in range(num_block)])
        self.up = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(nf, nf, 3, 1, 1), nn.LeakyReLU(0.2),
                                nn.Upsample(scale_factor=2), nn.Conv2d(nf, nf, 3, 1, 1), nn.LeakyReLU(0.2),
                                nn.Conv2d(nf, 3, 3, 1, 1))

    def forward(self, x):
        f = self.head(x)
        return self.up(f + self.body(f))


class Discriminator(nn.Module):
    def __init__(self, nf=64):
        super().__init__()
        layers, cin = [], 3
        for i, cout in enumerate([nf, nf * 2, nf * 4, nf * 8, nf * 8]):
            layers += [nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True),
                       nn.Conv2d(cout, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(nf * 8 * 4 * 4, 100), nn.LeakyReLU(0.2, True),
                                        nn.Linear(100, 1))

    def forward(self, x):
        return self.classifier(self.features(x))
