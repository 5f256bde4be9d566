import torch
from tqdm import tqdm


class Trainer:
    def __init__(self, model, optimizer, criterion, device, scheduler=None):
        self.model = model
        self.optimizer = optimizer
        self.criterion = criterion
        self.device = device
        self.scheduler = scheduler

    def train_one_epoch(self, loader):
        self.model.train()
        total = 0.0
        for imgs, labels in tqdm(loader, leave=False):
            imgs, labels = imgs.to(self.device), labels.to(self.device)
            self.optimizer.zero_grad()
            out = self.model(imgs)
            loss = self.criterion(out, labels)
            loss.backward()
            self.optimizer.step()
            total += loss.item() * imgs.size(0)
        if self.scheduler is not None:
            self.scheduler.step()
        return total / len(loader.dataset)

    @torch.no_grad()
    def validate(self, loader):
        self.model.eval()
        correct = 0
        for imgs, labels in loader:
            imgs, labels = imgs.to(self.device), labels.to(self.device)
            correct += (self.model(imgs).argmax(1) == labels).sum().item()
        return correct / len(loader.dataset)

    def fit(self, train_loader, val_loader, epochs, ckpt="best.pt"):
        best = 0.0
        for ep in range(epochs):
            loss = self.train_one_epoch(train_loader)
            acc = self.validate(val_loader)
            print(f"[{ep + 1:02d}/{epochs}] loss={loss:.4f} acc={acc:.4f}")
            if acc > best:
                best = acc
                torch.save(self.model.state_dict(), ckpt)
        return best
