import time

import torch


def train_one_epoch(model, loader, criterion, optimizer, device, log_every=100):
    model.train()
    running, correct, seen = 0.0, 0, 0
    start = time.time()
    for step, (images, targets) in enumerate(loader):
        images = images.to(device, non_blocking=True)
        targets = targets.to(device, non_blocking=True)

        outputs = model(images)
        loss = criterion(outputs, targets)

        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

        running += loss.item() * images.size(0)
        correct += (outputs.argmax(dim=1) == targets).sum().item()
        seen += images.size(0)
        if step % log_every == 0:
            print(f"  step {step:4d} loss {loss.item():.4f} ({time.time() - start:.1f}s)")
    return running / seen, correct / seen


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    correct, seen = 0, 0
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        preds = model(images).argmax(dim=1)
        correct += (preds == targets).sum().item()
        seen += targets.numel()
    return correct / seen
