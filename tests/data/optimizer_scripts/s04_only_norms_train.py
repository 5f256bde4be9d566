"""Everything frozen, then only the BatchNorm layers unfrozen: the head was forgotten."""
import torch
import torch.nn as nn


class NormOnlyNet(nn.Module):  # expect: GL403
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(self.pool(torch.relu(self.bn(self.conv(x)))).flatten(1))


def train(loader):
    model = NormOnlyNet()
    for p in model.parameters():
        p.requires_grad = False
    for p in model.bn.parameters():
        p.requires_grad = True
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
    for x, y in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
