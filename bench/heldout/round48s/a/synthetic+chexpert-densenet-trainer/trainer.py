import time

import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score


class Trainer:
    """Holds the model, optimiser and loops for multi-label chest X-ray training."""

    def __init__(self, model, train_loader, val_loader, lr=1e-4, device="cuda",
                 trainable_prefixes=("classifier",)):
        self.model = model.to(device)
        self.device = device
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.freeze(trainable_prefixes)
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(trainable, lr=lr, betas=(0.9, 0.999))
        self.criterion = nn.BCEWithLogitsLoss()
        self.history = {"train_loss": [], "val_auc": []}

    def freeze(self, trainable_prefixes):
        for name, param in self.model.named_parameters():
            param.requires_grad = any(name.startswith(p) for p in trainable_prefixes)

    def train_epoch(self):
        self.model.train()
        total = 0.0
        for images, labels in self.train_loader:
            images, labels = images.to(self.device), labels.to(self.device).float()
            loss = self.criterion(self.model(images), labels)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        return total / len(self.train_loader)

    @torch.no_grad()
    def validate(self):
        self.model.eval()
        ys, ps = [], []
        for images, labels in self.val_loader:
            ps.append(torch.sigmoid(self.model(images.to(self.device))).cpu())
            ys.append(labels)
        y, p = torch.cat(ys).numpy(), torch.cat(ps).numpy()
        return sum(roc_auc_score(y[:, i], p[:, i]) for i in range(y.shape[1])) / y.shape[1]

    def fit(self, epochs):
        for epoch in range(epochs):
            t0 = time.time()
            loss = self.train_epoch()
            auc = self.validate()
            self.history["train_loss"].append(loss)
            self.history["val_auc"].append(auc)
            print(f"epoch {epoch} loss {loss:.4f} auc {auc:.4f} ({time.time() - t0:.0f}s)")
        return self.history
