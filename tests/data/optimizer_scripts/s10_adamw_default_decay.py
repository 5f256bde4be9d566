"""AdamW left at its default weight decay: not the user's choice to decay norms, not reported."""
import torch
import torch.nn as nn


class DefaultDecayNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(16, 32)
        self.norm = nn.LayerNorm(32)
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(self.norm(self.proj(x)))


def train(loader):
    model = DefaultDecayNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
