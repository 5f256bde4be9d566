"""BIRDS 525 species - timm EfficientNet-B0 with a short frozen warm-up.

python train.py --epochs 12 --freeze_epochs 3
"""
import argparse

import timm
import torch
import torch.nn as nn
from timm.data import create_transform, resolve_data_config
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder


def set_requires_grad(module, flag):
    for p in module.parameters():
        p.requires_grad = flag


def get_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/kaggle/input/100-bird-species")
    ap.add_argument("--model", default="efficientnet_b0")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--freeze_epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-3)
    return ap.parse_args()


def main():
    args = get_args()
    device = "cuda"
    model = timm.create_model(args.model, pretrained=True, num_classes=525)
    cfg = resolve_data_config({}, model=model)
    train_ds = ImageFolder(f"{args.root}/train", create_transform(**cfg, is_training=True))
    valid_ds = ImageFolder(f"{args.root}/valid", create_transform(**cfg))
    train_dl = DataLoader(train_ds, batch_size=64, shuffle=True, num_workers=4, pin_memory=True)
    valid_dl = DataLoader(valid_ds, batch_size=128, num_workers=4)

    model.to(device)
    set_requires_grad(model, False)
    set_requires_grad(model.get_classifier(), True)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                    steps_per_epoch=len(train_dl))

    for epoch in range(args.epochs):
        if epoch == args.freeze_epochs:
            set_requires_grad(model, True)
            print("-> full fine-tuning")
        model.train()
        for x, y in train_dl:
            x, y = x.to(device), y.to(device)
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in valid_dl:
                correct += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
        print(f"epoch {epoch}: valid acc {correct / len(valid_ds):.4f}")
    torch.save(model.state_dict(), f"{args.model}_birds.pth")


if __name__ == "__main__":
    main()
