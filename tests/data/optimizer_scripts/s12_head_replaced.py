"""A head replaced after the model was built: the probe's model is not the script's, so the
CLI says nothing here (GL214 reads a replacement after the optimiser statically; preflight
measures it on the real objects)."""
import torch
import torch.nn as nn


class ReplacedNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(16, 32)
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        return self.head(torch.relu(self.body(x)))


def train(loader):
    model = ReplacedNet()
    model.head = nn.Linear(32, 4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-4)
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
