import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, ch=64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.PReLU(),
            nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch),
        )

    def forward(self, x):
        return x + self.body(x)


class Generator(nn.Module):
    def __init__(self, n_blocks=16, scale=4):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, 64, 9, padding=4), nn.PReLU())
        self.blocks = nn.Sequential(*[ResidualBlock() for _ in range(n_blocks)])
        self.mid = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64))
        ups = []
        for _ in range(scale // 2):
            ups += [nn.Conv2d(64, 256, 3, padding=1), nn.PixelShuffle(2), nn.PReLU()]
        self.up = nn.Sequential(*ups)
        self.tail = nn.Conv2d(64, 3, 9, padding=4)

    def forward(self, x):
        h = self.head(x)
        h = h + self.mid(self.blocks(h))
        return torch.tanh(self.tail(self.up(h)))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        cfg = [(64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2)]
        layers, cin = [nn.Conv2d(3, 64, 3, padding=1), nn.LeakyReLU(0.2, True)], 64
        for cout, stride in cfg:
            layers += [nn.Conv2d(cin, cout, 3, stride, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1024),
                                        nn.LeakyReLU(0.2, True), nn.Linear(1024, 1), nn.Sigmoid())

    def forward(self, x):
        return self.classifier(self.features(x))
