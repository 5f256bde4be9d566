import time

import torch


class Solver:
    """Owns the optimisation loop; model and criterion are injected by main.py."""

    def __init__(self, model, criterion, train_loader, val_loader, cfg, device="cuda"):
        self.model = model.to(device)
        self.criterion = criterion
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.device = device
        self.epochs = cfg["epochs"]
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=cfg["lr"],
                                         momentum=0.9, weight_decay=cfg.get("wd", 5e-4))
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, self.epochs)
        self.best_acc = 0.0

    def _train_epoch(self, epoch):
        self.model.train()
        running, seen = 0.0, 0
        tic = time.time()
        for images, targets in self.train_loader:
            images, targets = images.to(self.device), targets.to(self.device)
            outputs = self.model(images)
            loss = self.criterion(outputs, targets)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            running += loss.item() * images.size(0)
            seen += images.size(0)
        print(f"epoch {epoch} loss {running / seen:.4f} ({time.time() - tic:.1f}s)")

    @torch.no_grad()
    def _validate(self):
        self.model.eval()
        correct, total = 0, 0
        for images, targets in self.val_loader:
            images, targets = images.to(self.device), targets.to(self.device)
            pred = self.model(images).argmax(1)
            correct += (pred == targets).sum().item()
            total += targets.numel()
        return correct / total

    def fit(self):
        for epoch in range(self.epochs):
            self._train_epoch(epoch)
            self.scheduler.step()
            acc = self._validate()
            if acc > self.best_acc:
                self.best_acc = acc
                torch.save(self.model.state_dict(), "best.pth")
        return self.best_acc
