import copy
import time

import torch


class Trainer:
    def __init__(self, model, criterion, optimizer, scheduler, device):
        self.model = model
        self.criterion = criterion
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.device = device
        self.best_acc = 0.0
        self.best_state = None

    def train_epoch(self, loader):
        self.model.train()
        total, correct, loss_sum = 0, 0, 0.0
        for inputs, labels in loader:
            inputs, labels = inputs.to(self.device), labels.to(self.device)
            self.optimizer.zero_grad()
            outputs = self.model(inputs)
            loss = self.criterion(outputs, labels)
            loss.backward()
            self.optimizer.step()
            loss_sum += loss.item() * inputs.size(0)
            correct += (outputs.argmax(1) == labels).sum().item()
            total += inputs.size(0)
        return loss_sum / total, correct / total

    @torch.no_grad()
    def validate(self, loader):
        self.model.eval()
        correct = total = 0
        for inputs, labels in loader:
            outputs = self.model(inputs.to(self.device))
            correct += (outputs.argmax(1).cpu() == labels).sum().item()
            total += labels.numel()
        return correct / total

    def fit(self, train_loader, val_loader, epochs):
        for epoch in range(epochs):
            t0 = time.time()
            loss, acc = self.train_epoch(train_loader)
            val_acc = self.validate(val_loader)
            self.scheduler.step()
            if val_acc > self.best_acc:
                self.best_acc, self.best_state = val_acc, copy.deepcopy(self.model.state_dict())
            print(f"Epoch {epoch + 1}/{epochs} loss={loss:.4f} acc={acc:.4f} val_acc={val_acc:.4f} ({time.time() - t0:.0f}s)")
        return self.best_state
