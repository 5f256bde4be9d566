import torch
import torch.nn as nn


def down(cin, cout, norm=True):
    layers = [nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.InstanceNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def up(cin, cout):
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.InstanceNorm2d(cout),
                         nn.ReLU(inplace=True))


class UNetGenerator(nn.Module):
    def __init__(self, ch=64):
        super().__init__()
        self.d1, self.d2, self.d3, self.d4 = down(3, ch, False), down(ch, 2 * ch), down(2 * ch, 4 * ch), down(4 * ch, 8 * ch)
        self.u1, self.u2, self.u3 = up(8 * ch, 4 * ch), up(8 * ch, 2 * ch), up(4 * ch, ch)
        self.out = nn.Sequential(nn.ConvTranspose2d(2 * ch, 3, 4, 2, 1), nn.Tanh())

    def forward(self, x):
        e1 = self.d1(x)
        e2 = self.d2(e1)
        e3 = self.d3(e2)
        e4 = self.d4(e3)
        y = self.u1(e4)
        y = self.u2(torch.cat([y, e3], 1))
        y = self.u3(torch.cat([y, e2], 1))
        return self.out(torch.cat([y, e1], 1))
