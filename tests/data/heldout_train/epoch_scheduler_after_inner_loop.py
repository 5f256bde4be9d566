"""Correct: an epoch-level scheduler after the batch loop, and a plateau scheduler fed the validation loss."""
import torch
from torch import nn

model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 1))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=3)


def evaluate(model, data):
    model.eval()
    with torch.no_grad():
        total = sum(nn.functional.mse_loss(model(x), y).item() for x, y in data)
    model.train()
    return total / len(data)


for epoch in range(30):
    for x, y in train_data:
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    cosine.step()
    plateau.step(evaluate(model, val_data))
