"""A step function that scales the loss but steps the optimiser directly, plus a scheduler per step."""
import torch


def train_step(model, batch, optimizer, scheduler, scaler):
    optimizer.zero_grad()
    with torch.autocast(device_type="cuda", dtype=torch.float16):
        loss = model(batch).mean()
    scaler.scale(loss).backward()
    optimizer.step()  # expect: GL210
    scaler.update()
    scheduler.step()
    return loss.item()


for epoch in range(epochs):
    for batch in loader:
        train_step(model, batch, optimizer, scheduler, scaler)
