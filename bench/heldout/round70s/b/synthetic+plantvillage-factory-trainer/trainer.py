import os

import torch
import torch.nn as nn
from tqdm import tqdm


class Trainer:
    def __init__(self, model, config, device):
        self.model = model.to(device)
        self.device = device
        self.cfg = config
        self.criterion = getattr(nn, config["criterion"])()
        opt_cfg = dict(config["optimizer"])
        opt_cls = getattr(torch.optim, opt_cfg.pop("name"))
        self.optimizer = opt_cls((p for p in self.model.parameters() if p.requires_grad), **opt_cfg)
        os.makedirs(config["save_dir"], exist_ok=True)

    def train_one_epoch(self, loader, epoch):
        self.model.train()
        pbar = tqdm(loader, desc=f"epoch {epoch}")
        for i, (x, y) in enumerate(pbar):
            x, y = x.to(self.device), y.to(self.device)
            out = self.model(x)
            loss = self.criterion(out, y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            if i % self.cfg["log_every"] == 0:
                pbar.set_postfix(loss=f"{loss.item():.4f}")

    @torch.no_grad()
    def validate(self, loader):
        self.model.eval()
        hits = n = 0
        for x, y in loader:
            p = self.model(x.to(self.device))
            hits += (p.argmax(1).cpu() == y).sum().item()
            n += len(y)
        return hits / n

    def fit(self, train_loader, val_loader):
        for epoch in range(self.cfg["epochs"]):
            self.train_one_epoch(train_loader, epoch)
            acc = self.validate(val_loader)
            print(f"epoch {epoch}: val acc {acc:.4f}")
            torch.save(self.model.state_dict(), os.path.join(self.cfg["save_dir"], "last.pt"))
