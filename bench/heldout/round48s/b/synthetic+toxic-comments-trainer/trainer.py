import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score


class Trainer:
    def __init__(self, model, train_loader, valid_loader, pos_weight, lr=1e-3, device="cuda"):
        self.model = model.to(device)
        self.train_loader = train_loader
        self.valid_loader = valid_loader
        self.device = device
        self.criterion = nn.BCEWithLogitsLoss(pos_weight=torch.as_tensor(pos_weight, device=device))
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=lr)

    def _train_epoch(self):
        self.model.train()
        losses = []
        for ids, targets in self.train_loader:
            ids, targets = ids.to(self.device), targets.to(self.device).float()
            self.optimizer.zero_grad()
            scores = self.model(ids)
            loss = self.criterion(scores, targets)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        return float(np.mean(losses))

    @torch.no_grad()
    def predict_proba(self, loader):
        self.model.eval()
        out = []
        for ids, _ in loader:
            out.append(self.model(ids.to(self.device)).cpu().numpy())
        return np.concatenate(out)

    def fit(self, epochs):
        for epoch in range(epochs):
            train_loss = self._train_epoch()
            probs = self.predict_proba(self.valid_loader)
            y = np.concatenate([t.numpy() for _, t in self.valid_loader])
            auc = roc_auc_score(y, probs, average="macro")
            print(f"epoch {epoch + 1}: loss={train_loss:.4f} val_auc={auc:.4f}")
