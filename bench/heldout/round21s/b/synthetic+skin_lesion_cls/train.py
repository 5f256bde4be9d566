# Training script for HAM10000 lesion classifier
# usage: python train.py --data ./ham10000 --epochs 30
import argparse
import os

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from engine import evaluate, train_one_epoch
from model import LesionNet


def get_args():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="./ham10000")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--bs", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    return p.parse_args()


def main():
    args = get_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"

    tf_train = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.RandomVerticalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.763, 0.546, 0.570], [0.141, 0.152, 0.169]),
    ])
    tf_val = transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize([0.763, 0.546, 0.570], [0.141, 0.152, 0.169]),
    ])
    train_ds = datasets.ImageFolder(os.path.join(args.data, "train"), tf_train)
    val_ds = datasets.ImageFolder(os.path.join(args.data, "val"), tf_val)
    train_dl = DataLoader(train_ds, batch_size=args.bs, shuffle=True, num_workers=4)
    val_dl = DataLoader(val_ds, batch_size=args.bs, num_workers=4)

    model = LesionNet(num_classes=len(train_ds.classes)).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    best = 0.0
    for epoch in range(args.epochs):
        tr_loss, tr_acc = train_one_epoch(model, train_dl, criterion, optimizer, device)
        va_loss, va_acc = evaluate(model, val_dl, criterion, device)
        scheduler.step()
        print(f"[{epoch:02d}] train {tr_loss:.4f}/{tr_acc:.3f}  val {va_loss:.4f}/{va_acc:.3f}")
        if va_acc > best:
            best = va_acc
            torch.save(model.state_dict(), "best_lesionnet.pth")


if __name__ == "__main__":
    main()
