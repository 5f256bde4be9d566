import argparse

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import roc_auc_score
from torch.utils.data import DataLoader

from dataset import CheXpertCSV
from model import densenet121_multilabel


def run_epoch(model, loader, criterion, optimizer, device):
    model.train()
    total = 0.0
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        out = torch.sigmoid(model(images))
        loss = criterion(out, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(loader)


@torch.no_grad()
def validate(model, loader, criterion, device):
    model.eval()
    losses, probs, gts = [], [], []
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        logits = model(images)
        losses.append(criterion(logits, targets).item())
        probs.append(torch.sigmoid(logits).cpu().numpy())
        gts.append(targets.cpu().numpy())
    probs, gts = np.concatenate(probs), np.concatenate(gts)
    aucs = [roc_auc_score(gts[:, i], probs[:, i]) for i in range(gts.shape[1]) if len(np.unique(gts[:, i])) > 1]
    return float(np.mean(losses)), float(np.mean(aucs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv-train", default="CheXpert-v1.0-small/train.csv")
    ap.add_argument("--csv-valid", default="CheXpert-v1.0-small/valid.csv")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-4)
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_loader = DataLoader(CheXpertCSV(args.csv_train, train=True), batch_size=32, shuffle=True, num_workers=8)
    valid_loader = DataLoader(CheXpertCSV(args.csv_valid, train=False), batch_size=64, num_workers=8)

    model = densenet121_multilabel(num_labels=14).to(device)
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam((p for p in model.parameters() if p.requires_grad), lr=args.lr, betas=(0.9, 0.999))

    for epoch in range(args.epochs):
        tr_loss = run_epoch(model, train_loader, criterion, optimizer, device)
        va_loss, auc = validate(model, valid_loader, criterion, device)
        print(f"epoch {epoch}: train {tr_loss:.4f} valid {va_loss:.4f} mean AUC {auc:.4f}")
        torch.save(model.state_dict(), f"densenet121_ep{epoch}.pth")


if __name__ == "__main__":
    main()
