"""A per-iteration OneCycle scheduler stepped before the optimiser inside a helper."""
import torch
from torch import nn


def train_one_epoch(model, loader, optimizer, scheduler, device="cpu"):
    model.train()
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(images), targets)
        loss.backward()
        scheduler.step()  # expect: GL209
        optimizer.step()


def main():
    model = nn.Linear(32, 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = [(torch.randn(4, 32), torch.randint(0, 10, (4,))) for _ in range(5)]
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=50)
    for epoch in range(10):
        train_one_epoch(model, loader, optimizer, scheduler)
