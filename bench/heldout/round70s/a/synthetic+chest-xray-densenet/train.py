"""Multi-label chest X-ray training.

    python train.py --arch densenet121 --epochs 30 --unfreeze_at 10
"""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from data import ChestXrayDataset, build_transforms
from engine import evaluate, train_one_epoch
from models import get_model, set_backbone_trainable


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="densenet121")
    p.add_argument("--data_root", default="/data/nih-cxr")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--unfreeze_at", type=int, default=10,
                   help="train only the classifier for this many epochs, then the whole net")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch_size", type=int, default=32)
    return p.parse_args()


def main():
    args = parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_ds = ChestXrayDataset(args.data_root, "train", build_transforms(True))
    val_ds = ChestXrayDataset(args.data_root, "val", build_transforms(False))
    train_loader = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True, num_workers=8)
    val_loader = DataLoader(val_ds, batch_size=args.batch_size, num_workers=8)

    model = get_model(args.arch, num_classes=14, freeze_features=args.unfreeze_at > 0).to(device)
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    best = 0.0
    for epoch in range(args.epochs):
        if epoch == args.unfreeze_at:
            print("unfreezing backbone")
            set_backbone_trainable(model, args.arch, True)
            optimizer = torch.optim.Adam(model.parameters(), lr=args.lr * 0.1)
        loss = train_one_epoch(model, train_loader, criterion, optimizer, device)
        auc = evaluate(model, val_loader, device)
        print(f"epoch {epoch}: loss {loss:.4f} mean AUC {auc:.4f}")
        if auc > best:
            best = auc
            torch.save(model.state_dict(), f"{args.arch}_best.pt")


if __name__ == "__main__":
    main()
