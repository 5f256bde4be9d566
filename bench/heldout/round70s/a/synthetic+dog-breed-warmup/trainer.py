import os

import torch
import torch.nn as nn
from torchvision import models


def build_model(arch, num_classes):
    net = getattr(models, arch)(weights="DEFAULT")
    net.fc = nn.Sequential(nn.Dropout(0.4), nn.Linear(net.fc.in_features, num_classes))
    return net


class Trainer:
    def __init__(self, cfg, train_loader, valid_loader):
        self.cfg = cfg
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model = build_model(cfg["arch"], cfg["num_classes"]).to(self.device)
        self.train_loader, self.valid_loader = train_loader, valid_loader
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.AdamW([
            {"params": self.model.fc.parameters(), "lr": cfg["head_lr"]},
            {"params": [p for n, p in self.model.named_parameters() if not n.startswith("fc.")],
             "lr": cfg["body_lr"]},
        ], weight_decay=cfg["weight_decay"])

    def _set_body_frozen(self, frozen):
        for name, p in self.model.named_parameters():
            if not name.startswith("fc."):
                p.requires_grad = not frozen

    def _run_epoch(self, train):
        self.model.train(train)
        loader = self.train_loader if train else self.valid_loader
        tot_loss, hits, n = 0.0, 0, 0
        with torch.set_grad_enabled(train):
            for x, y in loader:
                x, y = x.to(self.device), y.to(self.device)
                logits = self.model(x)
                loss = self.criterion(logits, y)
                if train:
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
                tot_loss += loss.item() * y.size(0)
                hits += (logits.argmax(1) == y).sum().item()
                n += y.size(0)
        return tot_loss / n, hits / n

    def fit(self):
        os.makedirs(self.cfg["out_dir"], exist_ok=True)
        self._set_body_frozen(True)
        best = 0.0
        for epoch in range(self.cfg["epochs"]):
            if epoch == self.cfg["freeze_epochs"]:
                self._set_body_frozen(False)
                print(f"epoch {epoch}: backbone unfrozen")
            tr_loss, tr_acc = self._run_epoch(train=True)
            va_loss, va_acc = self._run_epoch(train=False)
            print(f"{epoch:3d} | {tr_loss:.4f} {tr_acc:.4f} | {va_loss:.4f} {va_acc:.4f}")
            if va_acc > best:
                best = va_acc
                torch.save(self.model.state_dict(), os.path.join(self.cfg["out_dir"], "best.pth"))
        return best
