import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from dataset import CassavaDataset, get_transforms
from engine import train_one_epoch, validate
from models.factory import get_model
from models.factory import count_trainable


def parse_args():
    p = argparse.ArgumentParser("cassava leaf disease")
    p.add_argument("--arch", default="tf_efficientnet_b3_ns")
    p.add_argument("--csv", default="data/train.csv")
    p.add_argument("--img-dir", default="data/train_images")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--bs", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--freeze-backbone", action="store_true")
    p.add_argument("--amp", action="store_true")
    return p.parse_args()


def main():
    args = parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    train_ds = CassavaDataset(args.csv, args.img_dir, fold=0, train=True, transform=get_transforms(True))
    valid_ds = CassavaDataset(args.csv, args.img_dir, fold=0, train=False, transform=get_transforms(False))
    train_dl = DataLoader(train_ds, batch_size=args.bs, shuffle=True, num_workers=4, drop_last=True)
    valid_dl = DataLoader(valid_ds, batch_size=args.bs * 2, num_workers=4)

    model = get_model(args.arch, num_classes=5, freeze_backbone=args.freeze_backbone).to(device)
    print("trainable params:", count_trainable(model))
    optimizer = torch.optim.AdamW(filter(lambda p: p.requires_grad, model.parameters()), lr=args.lr)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    scaler = torch.cuda.amp.GradScaler() if args.amp else None

    best = 0.0
    for epoch in range(args.epochs):
        tr_loss = train_one_epoch(model, train_dl, criterion, optimizer, device, scaler)
        va_loss, va_acc = validate(model, valid_dl, criterion, device)
        print(f"epoch {epoch} train {tr_loss:.4f} valid {va_loss:.4f} acc {va_acc:.4f}")
        if va_acc > best:
            best = va_acc
            torch.save(model.state_dict(), f"{args.arch}_fold0.pth")


if __name__ == "__main__":
    main()
