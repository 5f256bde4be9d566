import os

import torch
import torch.nn as nn

from losses import SoftDiceLoss, iou_score


class Trainer:
    def __init__(self, model, train_loader, val_loader, cfg):
        self.cfg = cfg
        self.device = torch.device(cfg["train"]["device"] if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device)
        self.train_loader = train_loader
        self.val_loader = val_loader
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(params, lr=cfg["train"]["lr"])
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, T_max=cfg["train"]["epochs"])
        self.bce = nn.BCEWithLogitsLoss()
        self.dice = SoftDiceLoss()
        self.best_iou = 0.0

    def _train_epoch(self):
        self.model.train()
        total = 0.0
        for images, masks in self.train_loader:
            images, masks = images.to(self.device), masks.to(self.device)
            self.optimizer.zero_grad()
            probs = self.model(images)
            loss = self.bce(probs, masks) + self.dice(probs, masks)
            loss.backward()
            self.optimizer.step()
            total += loss.item()
        return total / len(self.train_loader)

    @torch.no_grad()
    def _validate(self):
        self.model.eval()
        scores = []
        for images, masks in self.val_loader:
            probs = self.model(images.to(self.device))
            scores.append(iou_score(probs, masks.to(self.device)))
        return sum(scores) / max(len(scores), 1)

    def fit(self, out_dir="checkpoints"):
        os.makedirs(out_dir, exist_ok=True)
        for epoch in range(self.cfg["train"]["epochs"]):
            loss = self._train_epoch()
            iou = self._validate()
            self.scheduler.step()
            print(f"[{epoch:03d}] loss={loss:.4f} val_iou={iou:.4f}")
            if iou > self.best_iou:
                self.best_iou = iou
                torch.save(self.model.state_dict(), os.path.join(out_dir, "best.pt"))
