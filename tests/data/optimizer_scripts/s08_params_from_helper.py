"""The parameters come from a helper the linter does not read: no guess."""
import torch
import torch.nn as nn


class HelperNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 32)
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def trainable(model):
    return [p for name, p in model.named_parameters() if not name.startswith("body")]


def train(loader):
    model = HelperNet()
    optimizer = torch.optim.AdamW(trainable(model), lr=1e-3)
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
