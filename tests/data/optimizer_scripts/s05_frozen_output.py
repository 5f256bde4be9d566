"""The output layer frozen (a copy-paste of a freeze meant for the stem) while the body trains."""
import torch
import torch.nn as nn


class FrozenOutNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.out = nn.Linear(64, 3)  # expect: GL403

    def forward(self, x):
        return self.out(self.body(x))


def train(loader):
    model = FrozenOutNet()
    model.out.requires_grad_(False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
