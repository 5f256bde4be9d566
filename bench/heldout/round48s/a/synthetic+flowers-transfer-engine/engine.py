import math
import sys

import torch


def train_one_epoch(model, criterion, optimizer, loader, device, epoch, print_freq=50):
    model.train()
    running = 0.0
    for step, (images, targets) in enumerate(loader):
        images = images.to(device, non_blocking=True)
        targets = targets.to(device, non_blocking=True)
        logits = model(images)
        loss = criterion(logits, targets)
        if not math.isfinite(loss.item()):
            print(f"loss is {loss.item()}, stopping")
            sys.exit(1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running += loss.item()
        if step % print_freq == 0:
            print(f"epoch {epoch} step {step} loss {running / (step + 1):.4f}")
    return running / max(1, len(loader))


@torch.no_grad()
def evaluate(model, criterion, loader, device):
    model.eval()
    correct, total, loss_sum = 0, 0, 0.0
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        logits = model(images)
        loss_sum += criterion(logits, targets).item() * images.size(0)
        correct += (logits.argmax(1) == targets).sum().item()
        total += images.size(0)
    return loss_sum / total, correct / total
