import math

import torch.nn as nn


class ResBlock(nn.Module):
    def __init__(self, ch=64):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch), nn.PReLU(),
                                  nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch))

    def forward(self, x):
        return x + self.body(x)


class SRResNet(nn.Module):
    def __init__(self, scale=4, n_blocks=16, ch=64):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(3, ch, 9, padding=4), nn.PReLU())
        self.blocks = nn.Sequential(*[ResBlock(ch) for _ in range(n_blocks)])
        self.mid = nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), nn.BatchNorm2d(ch))
        ups = []
        for _ in range(int(math.log2(scale))):
            ups += [nn.Conv2d(ch, ch * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU()]
        self.up = nn.Sequential(*ups)
        self.tail = nn.Conv2d(ch, 3, 9, padding=4)

    def forward(self, x):
        h = self.head(x)
        h = h + self.mid(self.blocks(h))
        return self.tail(self.up(h)).clamp(0, 1)
