import time

import torch


def train_one_epoch(model, loader, optimizer, device, epoch, log_every=50):
    model.train()
    start = time.time()
    running = 0.0
    for step, (images, targets) in enumerate(loader):
        images = images.to(device, non_blocking=True)
        targets = targets.to(device, non_blocking=True)
        _, loss = model(images, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        running += loss.item()
        if step % log_every == 0:
            print(f"epoch {epoch} step {step} loss {running / (step + 1):.4f} "
                  f"({time.time() - start:.1f}s)")
    return running / max(1, len(loader))


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    correct, total = 0, 0
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        preds = model(images).argmax(dim=1)
        correct += (preds == targets).sum().item()
        total += targets.numel()
    return 100.0 * correct / total
