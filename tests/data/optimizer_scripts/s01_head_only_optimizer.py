"""Fine-tuning that hands only the new head to the optimiser but never freezes the
backbone: the backbone gets gradients on every step and never changes."""
import torch
import torch.nn as nn


class HeadOnlyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(16, 32), nn.ReLU())  # expect: GL402
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.backbone(x))


def train(loader):
    model = HeadOnlyNet()
    optimizer = torch.optim.AdamW(model.head.parameters(), lr=1e-3)
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
