import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, ch=64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, 1, 1), nn.BatchNorm2d(ch), nn.PReLU(),
            nn.Conv2d(ch, ch, 3, 1, 1), nn.BatchNorm2d(ch),
        )

    def forward(self, x):
        return x + self.body(x)


class Generator(nn.Module):
    def __init__(self, n_blocks=16, scale=4):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, 64, 9, 1, 4), nn.PReLU())
        self.blocks = nn.Sequential(*[ResidualBlock() for _ in range(n_blocks)])
        ups = []
        for _ in range(scale // 2):
            ups += [nn.Conv2d(64, 256, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU()]
        self.up = nn.Sequential(*ups)
        self.tail = nn.Conv2d(64, 3, 9, 1, 4)

    def forward(self, x):
        h = self.head(x)
        return self.tail(self.up(self.blocks(h) + h))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        layers, ch_in = [], 3
        for i, ch in enumerate([64, 64, 128, 128, 256, 256, 512, 512]):
            layers.append(nn.Conv2d(ch_in, ch, 3, 1 + (i % 2), 1))
            if i > 0:
                layers.append(nn.BatchNorm2d(ch))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            ch_in = ch
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1))

    def forward(self, x):
        return self.head(self.features(x))
