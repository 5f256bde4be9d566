import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, 1, 1), nn.BatchNorm2d(ch), nn.PReLU(),
            nn.Conv2d(ch, ch, 3, 1, 1), nn.BatchNorm2d(ch),
        )

    def forward(self, x):
        return x + self.body(x)


class UpsampleBlock(nn.Module):
    def __init__(self, ch, scale=2):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch * scale ** 2, 3, 1, 1)
        self.shuffle = nn.PixelShuffle(scale)
        self.act = nn.PReLU()

    def forward(self, x):
        return self.act(self.shuffle(self.conv(x)))


class Generator(nn.Module):
    def __init__(self, n_blocks=16, ch=64, scale=4):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, ch, 9, 1, 4), nn.PReLU())
        self.body = nn.Sequential(*[ResidualBlock(ch) for _ in range(n_blocks)])
        self.body_tail = nn.Sequential(nn.Conv2d(ch, ch, 3, 1, 1), nn.BatchNorm2d(ch))
        ups = [UpsampleBlock(ch) for _ in range(scale // 2)]
        self.tail = nn.Sequential(*ups, nn.Conv2d(ch, 3, 9, 1, 4))

    def forward(self, x):
        h = self.head(x)
        h = h + self.body_tail(self.body(h))
        return torch.tanh(self.tail(h))


class Discriminator(nn.Module):
    def __init__(self, ch=64):
        super().__init__()
        cfg = [(3, ch, 1, False), (ch, ch, 2, True), (ch, 2 * ch, 1, True), (2 * ch, 2 * ch, 2, True),
               (2 * ch, 4 * ch, 1, True), (4 * ch, 4 * ch, 2, True)]
        layers = []
        for cin, cout, s, bn in cfg:
            layers.append(nn.Conv2d(cin, cout, 3, s, 1))
            if bn:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(4 * ch, 1024), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(1024, 1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
