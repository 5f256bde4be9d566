"""Discriminative learning rates where the head's group was left at 0."""
import torch
import torch.nn as nn


class TwoRateNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 32)
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def train(loader):
    model = TwoRateNet()
    groups = [{"params": model.body.parameters(), "lr": 1e-4}, {"params": model.head.parameters(), "lr": 0.0}]
    optimizer = torch.optim.Adam(groups, lr=1e-3)  # expect: GL405
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
