import torch.nn as nn


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.PReLU(),
                                  nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c))

    def forward(self, x):
        return x + self.body(x)


class Generator(nn.Module):
    def __init__(self, n_res=16, scale=4, in_ch=3, out_ch=3):
        super().__init__()
        self.head = nn.Sequential(nn.Conv2d(in_ch, 64, 9, padding=4), nn.PReLU())
        self.res = nn.Sequential(*[ResBlock(64) for _ in range(n_res)])
        up = []
        for _ in range(scale // 2):
            up += [nn.Conv2d(64, 256, 3, padding=1), nn.PixelShuffle(2), nn.PReLU()]
        self.up = nn.Sequential(*up)
        self.tail = nn.Conv2d(64, out_ch, 9, padding=4)

    def forward(self, x):
        h = self.head(x)
        return self.tail(self.up(self.res(h) + h))


class UNetColor(nn.Module):
    """tiny encoder-decoder: L channel -> RGB"""

    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2))
        self.dec = nn.Sequential(nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                                 nn.ConvTranspose2d(64, 3, 4, 2, 1), nn.Sigmoid())

    def forward(self, x):
        return self.dec(self.enc(x))
