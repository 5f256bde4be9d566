import math
import sys

import torch


def train_one_epoch(distiller, loader, optimizer, device, epoch, print_freq=50):
    distiller.train()
    total, correct, loss_sum = 0, 0, 0.0
    for it, (images, labels) in enumerate(loader):
        images = images.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        loss, logits = distiller(images, labels)
        if not math.isfinite(loss.item()):
            print(f"loss is {loss.item()}, stopping")
            sys.exit(1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * labels.size(0)
        correct += (logits.argmax(1) == labels).sum().item()
        total += labels.size(0)
        if it % print_freq == 0:
            print(f"[{epoch}][{it}/{len(loader)}] loss {loss.item():.3f}")
    return loss_sum / total, correct / total


@torch.no_grad()
def evaluate(model, loader, device):
    model.eval()
    correct, total = 0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        correct += (model(images).argmax(1) == labels).sum().item()
        total += labels.size(0)
    return correct / total
