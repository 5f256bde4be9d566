import time

import torch


class Trainer:
    """Bucle de entrenamiento genérico (lo usamos en todas las prácticas)."""

    def __init__(self, model, criterion, optimizer, device="cpu", scheduler=None):
        self.model = model.to(device)
        self.criterion = criterion
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.device = device
        self.history = {"train_loss": [], "val_loss": [], "val_acc": []}

    def step(self, x, y):
        x, y = x.to(self.device), y.to(self.device)
        out = self.model(x)
        loss = self.criterion(out, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    @torch.no_grad()
    def validate(self, loader):
        self.model.eval()
        total, correct, loss_sum = 0, 0, 0.0
        for x, y in loader:
            x, y = x.to(self.device), y.to(self.device)
            out = self.model(x)
            loss_sum += self.criterion(out, y).item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            total += len(y)
        return loss_sum / total, correct / total

    def fit(self, train_loader, val_loader, epochs=10):
        for ep in range(epochs):
            t0 = time.time()
            self.model.train()
            losses = [self.step(x, y) for x, y in train_loader]
            tl = sum(losses) / len(losses)
            vl, va = self.validate(val_loader)
            if self.scheduler is not None:
                self.scheduler.step(vl)
            self.history["train_loss"].append(tl)
            self.history["val_loss"].append(vl)
            self.history["val_acc"].append(va)
            print(f"época {ep + 1}/{epochs} | train {tl:.4f} | val {vl:.4f} acc {va:.3f} | {time.time() - t0:.1f}s")
        return self.history
